import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { build, type BuildResult } from '../../src/build.js'
import type { Logger } from '../../src/log.js'
import { makeProduct } from '../../src/release/product.js'
import { verifyArchive } from '../../src/release/verify.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'
import { skopeoCopy, startRegistry, type TestRegistry } from '../support/registry.js'
import { newRunnerTemp } from '../support/runner-temp.js'
import { writeLayout, type LayerSpec } from './layer-fixtures.js'

/**
 * One image by every way in: pushed to Debian's docker-registry on 127.0.0.1 with
 * skopeo, and as oci-layout, oci-archive and docker-archive (docker save's format,
 * written by skopeo). The layers differ in bytes between transports (docker-archive
 * holds them uncompressed) but not in content, so the images must be identical.
 */

const made: string[] = []
let registry: TestRegistry
let layout: string
let layoutDigest: string
const tmp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(dir)
  return dir
}

const LAYERS: LayerSpec[] = [
  {
    compression: 'gzip',
    items: [
      { name: 'etc/', type: 'dir' },
      { name: 'etc/config', data: 'v1' },
      { name: 'etc/old', data: 'old' },
      { name: 'var/lib/app/', type: 'dir', uid: 1000, gid: 1000, mode: 0o750 },
      { name: 'var/lib/app/state', data: 'lower', uid: 1000, gid: 1000 },
      { name: 'usr/local/bin/app', data: '#!/bin/sh\necho app\n', mode: 0o755 },
      { name: 'usr/local/bin/app-link', type: 'hardlink', linkname: 'usr/local/bin/app' }
    ]
  },
  {
    compression: 'zstd',
    items: [
      { name: 'etc/.wh.old', data: '' },
      { name: 'etc/config', data: 'v2' },
      { name: 'var/lib/app/.wh..wh..opq', data: '' },
      { name: 'var/lib/app/fresh', data: 'upper', uid: 1000, gid: 1000 }
    ]
  },
  { compression: 'tar', items: [{ name: 'usr/local/bin/tool', type: 'symlink', linkname: 'app' }] }
]

beforeAll(async () => {
  process.env['RUNNER_TOOL_CACHE'] = tmp('fledge-tc-')
  process.env['RUNNER_TEMP'] = newRunnerTemp('layers-transports')
  layout = path.join(tmp('fledge-layout-'), 'layout')
  layoutDigest = writeLayout(layout, '1.0', LAYERS, { entrypoint: ['/usr/local/bin/app'] })
  registry = await startRegistry()
  await registry.push(`oci:${layout}:1.0`, 'test/app:1.0')
}, 120_000)

afterAll(async () => {
  await registry?.stop()
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, info() {}, debug() {}, warn: (m) => void warnings.push(m) }
}

async function buildWith(reference: string, files: Record<string, string> = {}): Promise<{ result: BuildResult; log: ReturnType<typeof recorder> }> {
  const dir = makeProject({ 'fledge.toml': offlineConfig(`image = "${reference}"\n`), 'agent.sh': STAND_IN_AGENT })
  made.push(dir)
  for (const [name, source] of Object.entries(files)) fs.copyFileSync(source, path.join(dir, name))
  const log = recorder()
  const result = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log })
  return { result, log }
}

describe('the same image from a registry, oci-layout, oci-archive and docker-archive', () => {
  it('gives identical plugin.cpio.gz bytes; an unpinned tag warns once with the digest; a warm pinned build makes zero requests', async () => {
    const archives = tmp('fledge-archives-')
    await skopeoCopy(`oci:${layout}:1.0`, `oci-archive:${path.join(archives, 'app-oci.tar')}:1.0`)
    // docker images cannot carry zstd layers: like `docker save` of a pulled zstd image, go through gzip first.
    const gzipped = path.join(archives, 'gzip-layout')
    await skopeoCopy(`oci:${layout}:1.0`, `oci:${gzipped}:1.0`, ['--dest-compress-format', 'gzip', '--dest-compress'])
    await skopeoCopy(`oci:${gzipped}:1.0`, `docker-archive:${path.join(archives, 'app-docker.tar')}:test/app:1.0`)

    const fromRegistry = await buildWith(`${registry.host}/test/app:1.0`)
    const pinWarnings = fromRegistry.log.warnings.filter((w) => w.includes('Pin it: image'))
    expect(pinWarnings).toHaveLength(1)
    const digest = fromRegistry.result.image?.digest as string
    expect(pinWarnings[0]).toMatch(/^\[source\] image ".*" is a tag, which can move; it resolved to sha256:/)
    expect(pinWarnings[0]).toContain(`Pin it: image = "${registry.host}/test/app:1.0@${digest}"`)

    const fromLayout = await buildWith(`oci-layout:${layout}:1.0`)
    const fromOciArchive = await buildWith('oci-archive:app-oci.tar', { 'app-oci.tar': path.join(archives, 'app-oci.tar') })
    const fromDockerArchive = await buildWith('docker-archive:app-docker.tar', { 'app-docker.tar': path.join(archives, 'app-docker.tar') })
    expect(fromLayout.result.image?.digest).toBe(layoutDigest)

    const sha = fromRegistry.result.archive.sha256
    expect({
      layout: fromLayout.result.archive.sha256,
      ociArchive: fromOciArchive.result.archive.sha256,
      dockerArchive: fromDockerArchive.result.archive.sha256
    }).toEqual({ layout: sha, ociArchive: sha, dockerArchive: sha })

    // The content is what the layers say, whichever way it came.
    const byPath = new Map(fromDockerArchive.result.entries.map((e) => [e.path, e]))
    expect(byPath.has('etc/old')).toBe(false)
    expect(byPath.has('var/lib/app/state')).toBe(false)
    expect(byPath.get('var/lib/app')).toMatchObject({ mode: 0o750, uid: 1000, gid: 1000 })
    expect(byPath.get('usr/local/bin/app-link')).toMatchObject({ type: 'file', mode: 0o755 })
    expect(byPath.get('usr/local/bin/tool')).toMatchObject({ type: 'symlink', target: 'app' })

    registry.requests.length = 0
    const pinned = await buildWith(`${registry.host}/test/app@${digest}`)
    expect(registry.requests).toEqual([])
    expect(pinned.result.image).toMatchObject({ digest, pinned: true, cacheHit: true })
    expect(pinned.log.warnings.filter((w) => w.includes('Pin it: image'))).toEqual([])
    expect(pinned.result.archive.sha256).toBe(sha)
  })

  it('verify rebuilds a tag from the recorded digest, after the tag has moved', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig(`image = "${registry.host}/test/moving:1.0"\n`), 'agent.sh': STAND_IN_AGENT })
    made.push(dir)
    const first = path.join(tmp('fledge-layout-'), 'layout')
    writeLayout(first, '1.0', LAYERS)
    await registry.push(`oci:${first}:1.0`, 'test/moving:1.0')
    const product = await makeProduct({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'out', 'plugin.cpio.gz'), baseDir: dir, log: recorder() })
    const recorded = product.record!.record.image!
    expect(recorded).toMatchObject({ reference: `${registry.host}/test/moving:1.0`, pinned: false })

    const moved = path.join(tmp('fledge-layout-'), 'layout')
    writeLayout(moved, '1.0', [...LAYERS, { items: [{ name: 'etc/added-later', data: 'new' }] }])
    await registry.push(`oci:${moved}:1.0`, 'test/moving:1.0')
    const rebuilt = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'now.cpio.gz'), log: recorder() })
    expect(rebuilt.image?.digest).not.toBe(recorded.digest)

    registry.requests.length = 0
    const verified = await verifyArchive({ archive: product.build.archive.path, record: product.record!.path, log: recorder() })
    expect(verified).toMatchObject({ match: true, differences: [] })
    // Pinned to the recorded digest, whose blobs are cached: the moved tag is never asked for.
    expect(registry.requests).toEqual([])
  })
})
