import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import type { Logger } from '../../src/log.js'
import { obtainImage, type ObtainContext } from '../../src/container/obtain.js'
import { parseReference } from '../../src/container/reference.js'
import type { ContainerImage } from '../../src/container/types.js'
import { startRegistry, writeOciLayout, type ImageSpec, type TestRegistry, type WrittenLayout } from '../support/registry.js'

interface Captured extends Logger {
  warnings: string[]
}

function capture(): Captured {
  const warnings: string[] = []
  return { warnings, info() {}, debug() {}, warn: (message) => void warnings.push(message) }
}

let scratch: string
const made: string[] = []

function folder(label: string): string {
  const dir = fs.mkdtempSync(path.join(scratch, `${label}-`))
  made.push(dir)
  return dir
}

function context(overrides: Partial<ObtainContext> = {}): ObtainContext & { log: Captured } {
  return {
    log: capture(),
    network: { attempts: 2, retryBaseMs: 0, idleTimeoutMs: 10_000, deadlineMs: 60_000 },
    useCache: true,
    platform: { os: 'linux', architecture: 'amd64' },
    baseDir: scratch,
    tempDir: folder('build-temp'),
    // Never the user's own logins.
    dockerConfigPath: path.join(scratch, 'no-docker-config.json'),
    ...overrides
  } as ObtainContext & { log: Captured }
}

/** Layers whose bytes are unique to `label`, so each test starts with cold blobs. */
function multiArch(label: string): ImageSpec[] {
  const layers = (arch: string): ImageSpec['layers'] => [
    { compression: 'gzip', entries: [{ name: 'etc' }, { name: 'etc/os-release', body: `ID=${label}-${arch}\n` }] },
    { compression: 'zstd', entries: [{ name: 'bin' }, { name: 'bin/app', body: `#!/bin/sh\necho ${label} ${arch}\n`, mode: 0o755 }] }
  ]
  return [
    { architecture: 'amd64', layers: layers('amd64'), cmd: ['/bin/app'], env: ['PATH=/bin', `LABEL=${label}`] },
    { architecture: 'arm64', variant: 'v8', layers: layers('arm64'), cmd: ['/bin/app'] }
  ]
}

async function failure(promise: Promise<unknown>): Promise<FledgeError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof FledgeError) return error
    throw error
  }
  throw new Error('expected a FledgeError, got success')
}

const digests = (image: ContainerImage) => ({
  digest: image.digest,
  configDigest: image.configDigest,
  layers: image.layers.map((l) => [l.digest, l.mediaType, l.size])
})

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-obtain-'))
})
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

describe('parseReference', () => {
  it('expands Docker Hub names, keeps registries with ports, and parses digests and local transports', () => {
    expect(parseReference('alpine:3.20', '/base')).toMatchObject({
      kind: 'registry', registry: 'docker.io', apiHost: 'registry-1.docker.io', scheme: 'https', repository: 'library/alpine', tag: '3.20'
    })
    expect(parseReference('docker.io/library/nginx:1.27-alpine', '/base')).toMatchObject({ apiHost: 'registry-1.docker.io', repository: 'library/nginx', tag: '1.27-alpine' })
    expect(parseReference('ghcr.io/owner/app:1.0', '/base')).toMatchObject({ registry: 'ghcr.io', scheme: 'https', repository: 'owner/app', tag: '1.0' })
    const digest = `sha256:${'ab'.repeat(32)}`
    expect(parseReference(`registry.example.com:5000/x/y@${digest}`, '/base')).toEqual({
      kind: 'registry', registry: 'registry.example.com:5000', apiHost: 'registry.example.com:5000', scheme: 'https', repository: 'x/y', digest
    })
    expect(parseReference('localhost:5000/x', '/b')).toMatchObject({ scheme: 'http', repository: 'x', tag: 'latest' })
    expect(parseReference('127.0.0.1:5000/x:1', '/b')).toMatchObject({ scheme: 'http' })
    expect(parseReference('[::1]:5000/x:1', '/b')).toMatchObject({ scheme: 'http', registry: '[::1]:5000' })
    expect(parseReference('user/app', '/b')).toMatchObject({ registry: 'docker.io', repository: 'user/app', tag: 'latest' })
    expect(parseReference('oci-layout:img:v1', '/base')).toEqual({ kind: 'oci-layout', path: '/base/img', tag: 'v1' })
    expect(parseReference('oci-layout:../out/img', '/base/p')).toEqual({ kind: 'oci-layout', path: '/base/out/img' })
    expect(parseReference('oci-archive:/abs/img.tar', '/base')).toEqual({ kind: 'oci-archive', path: '/abs/img.tar' })
    expect(parseReference('docker-archive:img.tar:app:1.0', '/base')).toMatchObject({ kind: 'docker-archive', path: '/base/img.tar:app', tag: '1.0' })
  })

  it('refuses malformed references with the fix', () => {
    expect(() => parseReference('Alpine:3', '/b')).toThrow(/invalid repository name "library\/Alpine".*Fix:|invalid repository/)
    expect(() => parseReference('alpine@sha256:1234', '/b')).toThrow(/malformed digest "sha256:1234"/)
    expect(() => parseReference('docker://alpine', '/b')).toThrow(/not a reference fledge can use/)
    const error = (() => {
      try {
        parseReference('Alpine', '/b', { file: 'fledge.toml', key: '[source] image' })
      } catch (e) {
        return e as FledgeError
      }
    })()
    expect(error?.format()).toMatch(/^fledge\.toml: \[source\] image: /)
  })
})

describe('obtainImage from local transports', () => {
  it('oci-layout: picks linux/amd64 from a multi-arch index, with config and layers verified', async () => {
    const dir = folder('layout')
    const written = writeOciLayout(dir, 'v1', multiArch('layout-local'))
    const image = await obtainImage(`oci-layout:${path.relative(scratch, dir)}:v1`, context())
    const amd64 = written.images[0]!
    expect(image.digest).toBe(amd64.digest)
    expect(image.configDigest).toBe(amd64.configDigest)
    expect(image.origin).toBe(`oci-layout:${dir}`)
    expect(image.layers.map((l) => [l.digest, l.mediaType])).toEqual(amd64.layers.map((l) => [l.digest, l.mediaType]))
    expect(image.config).toEqual({ os: 'linux', architecture: 'amd64', env: ['PATH=/bin', 'LABEL=layout-local'], cmd: ['/bin/app'] })
    for (const layer of image.layers) expect(fs.statSync(layer.path).size).toBe(layer.size)
  })

  it('oci-layout: arm64 too, and a platform the index lacks is an error listing what it has', async () => {
    const dir = folder('layout')
    const written = writeOciLayout(dir, 'v1', multiArch('layout-arm'))
    const arm = await obtainImage(`oci-layout:${dir}:v1`, context({ platform: { os: 'linux', architecture: 'arm64' } }))
    expect(arm.digest).toBe(written.images[1]!.digest)
    const error = await failure(obtainImage(`oci-layout:${dir}:v1`, context({ platform: { os: 'linux', architecture: 'riscv64' } })))
    expect(error.format()).toMatch(/has no linux\/riscv64 image; it has linux\/amd64, linux\/arm64\/v8\. Fix: /)
  })

  it('oci-layout: a blob whose bytes do not match its digest is refused, naming the digest', async () => {
    const dir = folder('layout')
    const written = writeOciLayout(dir, 'v1', multiArch('layout-bad'))
    const layer = written.images[0]!.layers[1]!.digest
    const file = path.join(dir, 'blobs', 'sha256', layer.slice(7))
    const bytes = fs.readFileSync(file)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
    fs.writeFileSync(file, bytes)
    const error = await failure(obtainImage(`oci-layout:${dir}:v1`, context()))
    expect(error.format()).toContain(`layer 2 ${layer} from the layout ${dir} does not match its digest: its bytes hash to sha256:`)
    expect(error.format()).toMatch(/refused\. Fix: /)
  })
})

describe('obtainImage from a registry (docker-registry on 127.0.0.1, images pushed by skopeo)', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  })
  afterAll(async () => {
    await registry?.stop()
  })

  async function pushed(label: string, repository: string, tag: string): Promise<{ layout: string; written: WrittenLayout }> {
    const layout = folder('layout')
    const written = writeOciLayout(layout, tag, multiArch(label))
    await registry.push(`oci:${layout}:${tag}`, `${repository}:${tag}`)
    return { layout, written }
  }

  it('pulls linux/amd64 from a multi-arch index, warns that the tag is unpinned naming the digest, and matches the layout', async () => {
    const { layout, written } = await pushed('pull', 'fledge/app', '1.0')
    registry.requests.length = 0
    const ctx = context()
    const image = await obtainImage(`${registry.host}/fledge/app:1.0`, ctx)
    expect(image.digest).toBe(written.images[0]!.digest)
    expect(image.pinned).toBe(false)
    expect(image.cacheHit).toBe(false)
    expect(image.origin).toBe(`registry:${registry.host}/fledge/app`)
    expect(ctx.log.warnings).toEqual([
      expect.stringContaining(`resolved to ${image.digest}. Pin it: image = "${registry.host}/fledge/app:1.0@${image.digest}"`)
    ])
    const fromLayout = await obtainImage(`oci-layout:${layout}:1.0`, context())
    expect(digests(image)).toEqual(digests(fromLayout))
    expect(registry.requests.some((r) => r.includes('/manifests/1.0'))).toBe(true)
  })
})
