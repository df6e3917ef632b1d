import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Logger } from '../../src/log.js'
import { makeProduct } from '../../src/release/product.js'
import { verifyArchive } from '../../src/release/verify.js'
import { build } from '../../src/build.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'
import { newRunnerTemp } from '../support/runner-temp.js'
import { writeLayout, type LayerSpec } from './layer-fixtures.js'

const made: string[] = []
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

function recorder(): Logger & { infos: string[]; warnings: string[] } {
  const infos: string[] = []
  const warnings: string[] = []
  return { infos, warnings, info: (m) => void infos.push(m), warn: (m) => void warnings.push(m), debug() {} }
}

process.env['RUNNER_TOOL_CACHE'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-tc-'))
process.env['RUNNER_TEMP'] = newRunnerTemp('layers-build')

/** A merged-/usr image (bin -> usr/bin) with a dynamically linked program, its loader and libc from this machine. */
function debianLikeLayers(withLibc = true): LayerSpec[] {
  const libdir = 'usr/lib/x86_64-linux-gnu'
  return [
    {
      compression: 'gzip',
      items: [
        { name: 'usr/', type: 'dir' },
        { name: 'usr/bin/', type: 'dir' },
        { name: 'usr/sbin/', type: 'dir' },
        { name: `${libdir}/`, type: 'dir' },
        { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
        { name: 'sbin', type: 'symlink', linkname: 'usr/sbin' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'lib64/', type: 'dir' },
        { name: 'lib64/ld-linux-x86-64.so.2', type: 'symlink', linkname: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
        { name: `${libdir}/ld-linux-x86-64.so.2`, data: fs.readFileSync('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'), mode: 0o755 },
        ...(withLibc ? [{ name: `${libdir}/libc.so.6`, data: fs.readFileSync('/usr/lib/x86_64-linux-gnu/libc.so.6'), mode: 0o755 }] : []),
        { name: 'usr/bin/sh', type: 'symlink', linkname: 'hello' },
        { name: 'tmp/', type: 'dir', mode: 0o1777 },
        { name: 'etc/os-release', data: 'ID=test\n' }
      ]
    },
    {
      compression: 'zstd',
      items: [
        { name: 'usr/bin/hello', data: fs.readFileSync('/usr/bin/true'), mode: 0o755 },
        { name: 'app/', type: 'dir', uid: 1000, gid: 1000 }
      ]
    }
  ]
}

const IMAGE_CONFIG = { entrypoint: ['/usr/bin/hello'], cmd: ['--serve'], env: ['PATH=/usr/bin:/bin', 'MODE=image'], workingDir: '/app', user: 'app' }

function project(layers: LayerSpec[], extra = ''): { dir: string; digest: string } {
  const dir = makeProject({
    'fledge.toml': offlineConfig(`image = "oci-layout:./layout:1.0"\n${extra}`),
    'agent.sh': STAND_IN_AGENT,
    'manifest.toml': 'name = "from-image"\nversion = "0.1.0"\nruntime = "from-image"\n\n[workload]\nbase_url = "http://127.0.0.1:80"\n'
  })
  made.push(dir)
  const digest = writeLayout(path.join(dir, 'layout'), '1.0', layers, IMAGE_CONFIG)
  return { dir, digest }
}

describe('a build on a container image', () => {
  it('lays the image under fledge\'s steps: merged /usr followed, replacements reported, dynamic programs resolved inside the image', async () => {
    const { dir, digest } = project(debianLikeLayers())
    const log = recorder()
    const result = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log })
    const byPath = new Map(result.entries.map((e) => [e.path, e]))
    // bin -> usr/bin stays a link; busybox and its applets land in usr/bin through it.
    expect(byPath.get('bin')).toMatchObject({ type: 'symlink', target: 'usr/bin' })
    expect(byPath.get('usr/bin/busybox')).toMatchObject({ type: 'file', origin: 'busybox' })
    expect(byPath.get('usr/bin/ls')).toMatchObject({ type: 'symlink', target: 'busybox' })
    expect(byPath.has('bin/busybox')).toBe(false)
    expect(byPath.get('usr/bin/hello')).toMatchObject({ type: 'file', mode: 0o755, origin: 'image oci-layout:./layout:1.0' })
    expect(byPath.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 })
    expect(byPath.get('app')).toMatchObject({ uid: 1000, gid: 1000 })
    expect(result.replacements).toContainEqual({ path: '/usr/bin/sh', replaced: 'image oci-layout:./layout:1.0', by: 'busybox applet' })
    expect(log.infos).toContain('busybox applet replaces /usr/bin/sh (was: image oci-layout:./layout:1.0)')
    expect(result.image).toMatchObject({ reference: 'oci-layout:./layout:1.0', digest, pinned: false })
    // hello needs /lib64/ld-linux-x86-64.so.2 → /lib/… → usr/lib/…, and libc.so.6: all in the image, no note.
    expect(log.warnings.filter((w) => w.includes('hello'))).toEqual([])
  })

  it('[init] path absolute on an image names the image\'s program (C init + /.volant_init), even when the host has a file there', async () => {
    const { dir } = project(debianLikeLayers())
    fs.writeFileSync(
      path.join(dir, 'fledge.toml'),
      'version = "1"\nstrategy = "initramfs"\n\n[init]\npath = "/bin/sh"\n\n[source]\nbusybox_url = "file:///bin/busybox"\nimage = "oci-layout:./layout:1.0"\n'
    )
    expect(fs.existsSync('/bin/sh')).toBe(true)
    const result = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log: recorder() })
    expect(result.initPlan).toEqual({ kind: 'c-init', exec: 'custom', imagePath: '/bin/sh' })
    const byPath = new Map(result.entries.map((e) => [e.path, e]))
    expect(byPath.get('init')?.origin).toBe('C init')
    expect(byPath.get('.volant_init')?.source).toEqual({ kind: 'bytes', data: Buffer.from('/bin/sh\n') })
  })

  it('[init] none: the image may bring its own /init; without one the build stops as before', async () => {
    const noneConfig = 'version = "1"\nstrategy = "initramfs"\n\n[init]\nnone = true\n\n[source]\nbusybox_url = "file:///bin/busybox"\nimage = "oci-layout:./layout:1.0"\n'
    const { dir } = project([...debianLikeLayers(), { items: [{ name: 'init', data: '#!/bin/sh\nexec /bin/sh\n', mode: 0o755 }] }])
    fs.writeFileSync(path.join(dir, 'fledge.toml'), noneConfig)
    const result = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log: recorder() })
    expect(result.entries.find((e) => e.path === 'init')).toMatchObject({ type: 'file', mode: 0o755, origin: 'image oci-layout:./layout:1.0' })

    const bare = project(debianLikeLayers())
    fs.writeFileSync(path.join(bare.dir, 'fledge.toml'), noneConfig)
    await expect(build({ configPath: path.join(bare.dir, 'fledge.toml'), outputPath: path.join(bare.dir, 'plugin.cpio.gz'), log: recorder() })).rejects.toThrow(/the image has no \/init/)
  })

  it('the CLI names the image and its digest among the build\'s lines', async () => {
    const { dir, digest } = project(debianLikeLayers())
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'out.cpio.gz'), '--no-record', '--no-sums'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`  image:          oci-layout:./layout:1.0 (${digest})\n`)
    expect(run.stderr).toContain('busybox applet replaces /usr/bin/sh (was: image oci-layout:./layout:1.0)')
  })

  it('a program of the image whose library the image lacks is reported (a warning naming it)', async () => {
    const { dir } = project(debianLikeLayers(false))
    const log = recorder()
    await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log })
    expect(log.warnings.join('\n')).toMatch(/\/usr\/bin\/hello \(image oci-layout:\.\/layout:1\.0\) is dynamically linked, but the image lacks the library libc\.so\.6/)
  })

  it('manifest.toml without entrypoint/env/workdir takes them from the image config; the record pins the image; verify matches', async () => {
    const { dir, digest } = project(debianLikeLayers())
    const log = recorder()
    const product = await makeProduct({
      configPath: path.join(dir, 'fledge.toml'),
      outputPath: path.join(dir, 'out', 'plugin.cpio.gz'),
      manifest: { template: path.join(dir, 'manifest.toml') },
      baseDir: dir,
      log
    })
    const workload = product.manifest?.manifest['workload'] as Record<string, unknown>
    expect(workload['entrypoint']).toEqual(['/usr/bin/hello', '--serve'])
    expect(workload['env']).toEqual({ PATH: '/usr/bin:/bin', MODE: 'image' })
    expect(workload['workdir']).toBe('/app')
    expect(log.infos.join('\n')).toMatch(/workload\.entrypoint is taken from the container image's Entrypoint and Cmd: \["\/usr\/bin\/hello","--serve"\]\. To say so in manifest\.toml: entrypoint = "\/usr\/bin\/hello", args = \["--serve"\]/)
    expect(log.infos.join('\n')).toMatch(/the container image sets User "app"; the Volant manifest has no user/)
    expect(product.record?.record.image).toMatchObject({ reference: 'oci-layout:./layout:1.0', digest, layers: [expect.stringMatching(/^sha256:/), expect.stringMatching(/^sha256:/)] })

    const verified = await verifyArchive({ archive: product.build.archive.path, record: product.record!.path, log: recorder() })
    expect(verified).toMatchObject({ match: true, differences: [] })

    // The layout changes under the same tag: verify names the image.
    writeLayout(path.join(dir, 'layout'), '1.0', [...debianLikeLayers(), { items: [{ name: 'etc/extra', data: 'new' }] }], IMAGE_CONFIG)
    const changed = await verifyArchive({ archive: product.build.archive.path, record: product.record!.path, log: recorder() })
    expect(changed.match).toBe(false)
    expect(changed.differences.join('\n')).toMatch(/container image: recorded \{"reference":"oci-layout:\.\/layout:1\.0","digest":"sha256:/)
  })

  it('the size budget counts the image\'s files and names the largest', async () => {
    const { dir } = project(debianLikeLayers())
    await expect(
      makeProduct({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'out', 'plugin.cpio.gz'), baseDir: dir, maxSize: 100_000, log: recorder() })
    ).rejects.toThrow(/over the max-size budget of .*Largest entries: .*\/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6 [0-9.]+ MB/)
  })

  it('[source] dockerfile without docker buildx: one sentence with the docker build/save alternative', async () => {
    const dir = makeProject({
      'fledge.toml': offlineConfig('dockerfile = "Dockerfile"\n'),
      'agent.sh': STAND_IN_AGENT,
      Dockerfile: 'FROM scratch\n'
    })
    made.push(dir)
    // An empty PATH folder first, then a `docker` that has no buildx (as on this machine, or none at all).
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\necho "docker: unknown command: docker $1" >&2\nexit 1\n', { mode: 0o755 })
    const saved = process.env['PATH']
    process.env['PATH'] = `${bin}:${saved ?? ''}`
    try {
      await expect(build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log: recorder() })).rejects.toThrow(
        /dockerfile = "Dockerfile" needs docker buildx, and `docker buildx version` failed \(docker: unknown command: docker buildx\)\./
      )
      await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'plugin.cpio.gz'), log: recorder() }).catch((error: { format(): string }) => {
        expect(error.format()).toMatch(
          /fledge\.toml:10:1: source\.dockerfile: .* Fix: build and save the image yourself, then use it: `docker build -t plugin-image -f Dockerfile \. && docker save -o plugin-image\.tar plugin-image`, and in \[source\] replace dockerfile with image = "docker-archive:plugin-image\.tar"\./
        )
      })
    } finally {
      process.env['PATH'] = saved
    }
    expect(fs.existsSync(path.join(dir, 'plugin.cpio.gz'))).toBe(false)
  })
})
