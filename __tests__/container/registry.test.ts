import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import type { Logger } from '../../src/log.js'
import { obtainImage, type ObtainContext } from '../../src/container/obtain.js'
import { choosePlatform, parseManifest } from '../../src/container/manifest.js'
import { parseReference } from '../../src/container/reference.js'
import type { ContainerImage } from '../../src/container/types.js'
import {
  TEST_PASSWORD,
  TEST_USER,
  startRegistry,
  skopeoCopy,
  tarOf,
  writeOciLayout,
  type ImageSpec,
  type TestRegistry,
  type WrittenLayout
} from '../support/registry.js'
import { lookupCredentials } from '../../src/container/auth.js'

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
    {
      compression: 'gzip',
      entries: [{ name: 'etc' }, { name: 'etc/os-release', body: `ID=${label}-${arch}\n` }]
    },
    {
      compression: 'zstd',
      entries: [
        { name: 'bin' },
        { name: 'bin/app', body: `#!/bin/sh\necho ${label} ${arch}\n`, mode: 0o755 }
      ]
    }
  ]
  return [
    {
      architecture: 'amd64',
      layers: layers('amd64'),
      cmd: ['/bin/app'],
      env: ['PATH=/bin', `LABEL=${label}`]
    },
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
      kind: 'registry',
      registry: 'docker.io',
      apiHost: 'registry-1.docker.io',
      scheme: 'https',
      repository: 'library/alpine',
      tag: '3.20'
    })
    expect(parseReference('docker.io/library/nginx:1.27-alpine', '/base')).toMatchObject({
      apiHost: 'registry-1.docker.io',
      repository: 'library/nginx',
      tag: '1.27-alpine'
    })
    expect(parseReference('ghcr.io/owner/app:1.0', '/base')).toMatchObject({
      registry: 'ghcr.io',
      scheme: 'https',
      repository: 'owner/app',
      tag: '1.0'
    })
    const digest = `sha256:${'ab'.repeat(32)}`
    expect(parseReference(`registry.example.com:5000/x/y@${digest}`, '/base')).toEqual({
      kind: 'registry',
      registry: 'registry.example.com:5000',
      apiHost: 'registry.example.com:5000',
      scheme: 'https',
      repository: 'x/y',
      digest
    })
    expect(parseReference('localhost:5000/x', '/b')).toMatchObject({
      scheme: 'http',
      repository: 'x',
      tag: 'latest'
    })
    expect(parseReference('127.0.0.1:5000/x:1', '/b')).toMatchObject({ scheme: 'http' })
    expect(parseReference('[::1]:5000/x:1', '/b')).toMatchObject({
      scheme: 'http',
      registry: '[::1]:5000'
    })
    expect(parseReference('user/app', '/b')).toMatchObject({
      registry: 'docker.io',
      repository: 'user/app',
      tag: 'latest'
    })
    expect(parseReference('oci-layout:img:v1', '/base')).toEqual({
      kind: 'oci-layout',
      path: '/base/img',
      tag: 'v1'
    })
    expect(parseReference('oci-layout:../out/img', '/base/p')).toEqual({
      kind: 'oci-layout',
      path: '/base/out/img'
    })
    expect(parseReference('oci-archive:/abs/img.tar', '/base')).toEqual({
      kind: 'oci-archive',
      path: '/abs/img.tar'
    })
    expect(parseReference('docker-archive:img.tar:app:1.0', '/base')).toEqual({
      kind: 'docker-archive',
      path: '/base/img.tar',
      tag: 'app:1.0'
    })
    expect(parseReference('docker-archive:img.tar:ghcr.io/o/app:1.0', '/base')).toEqual({
      kind: 'docker-archive',
      path: '/base/img.tar',
      tag: 'ghcr.io/o/app:1.0'
    })
    expect(parseReference('docker-archive:img.tar', '/base')).toEqual({
      kind: 'docker-archive',
      path: '/base/img.tar'
    })
  })

  it('refuses malformed references with the fix', () => {
    expect(() => parseReference('Alpine:3', '/b')).toThrow(
      /invalid repository name "library\/Alpine".*Fix:|invalid repository/
    )
    expect(() => parseReference('alpine@sha256:1234', '/b')).toThrow(
      /malformed digest "sha256:1234"/
    )
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

describe('manifests', () => {
  it('skips attestation entries (unknown/unknown) when choosing, and refuses schema 1', () => {
    const d = (digit: string, os: string, architecture: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${digit.repeat(64)}`,
      size: 1,
      platform: { os, architecture }
    })
    const manifests = [d('1', 'unknown', 'unknown'), d('2', 'linux', 'amd64')]
    expect(
      choosePlatform(manifests, { os: 'linux', architecture: 'amd64' }, 'the index').digest
    ).toBe(`sha256:${'2'.repeat(64)}`)
    expect(() =>
      choosePlatform(manifests, { os: 'linux', architecture: 'arm64' }, 'the index')
    ).toThrow('the index has no linux/arm64 image; it has linux/amd64.')
    expect(() =>
      parseManifest(
        Buffer.from('{"schemaVersion":1,"fsLayers":[]}'),
        undefined,
        'the manifest of x'
      )
    ).toThrow('the manifest of x is a Docker v2 schema 1 manifest, which fledge does not read.')
  })
})

describe('obtainImage from local transports', () => {
  it('a single-platform image for another architecture is refused, naming both', async () => {
    const dir = folder('layout')
    writeOciLayout(dir, 'v1', multiArch('other-arch').slice(1))
    const error = await failure(obtainImage(`oci-layout:${dir}`, context()))
    expect(error.format()).toBe(
      `the layout ${dir} is a linux/arm64/v8 image; this build is for linux/amd64. Fix: use the image's linux/amd64 variant (or a multi-platform tag), or build for linux/arm64/v8.`
    )
  })

  it('oci-layout: picks linux/amd64 from a multi-arch index, with config and layers verified', async () => {
    const dir = folder('layout')
    const written = writeOciLayout(dir, 'v1', multiArch('layout-local'))
    const image = await obtainImage(`oci-layout:${path.relative(scratch, dir)}:v1`, context())
    const amd64 = written.images[0]!
    expect(image.digest).toBe(amd64.digest)
    expect(image.configDigest).toBe(amd64.configDigest)
    expect(image.origin).toBe(`oci-layout:${dir}`)
    expect(image.layers.map((l) => [l.digest, l.mediaType])).toEqual(
      amd64.layers.map((l) => [l.digest, l.mediaType])
    )
    expect(image.config).toEqual({
      os: 'linux',
      architecture: 'amd64',
      env: ['PATH=/bin', 'LABEL=layout-local'],
      cmd: ['/bin/app']
    })
    for (const layer of image.layers) expect(fs.statSync(layer.path).size).toBe(layer.size)
  })

  it('oci-layout: arm64 too, and a platform the index lacks is an error listing what it has', async () => {
    const dir = folder('layout')
    const written = writeOciLayout(dir, 'v1', multiArch('layout-arm'))
    const arm = await obtainImage(
      `oci-layout:${dir}:v1`,
      context({ platform: { os: 'linux', architecture: 'arm64' } })
    )
    expect(arm.digest).toBe(written.images[1]!.digest)
    const error = await failure(
      obtainImage(
        `oci-layout:${dir}:v1`,
        context({ platform: { os: 'linux', architecture: 'riscv64' } })
      )
    )
    expect(error.format()).toMatch(
      /has no linux\/riscv64 image; it has linux\/amd64, linux\/arm64\/v8\. Fix: /
    )
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
    expect(error.format()).toContain(
      `layer 2 ${layer} from the layout ${dir} does not match its digest: its bytes hash to sha256:`
    )
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

  async function pushed(
    label: string,
    repository: string,
    tag: string
  ): Promise<{ layout: string; written: WrittenLayout }> {
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
      expect.stringContaining(
        `resolved to ${image.digest}. Pin it: image = "${registry.host}/fledge/app:1.0@${image.digest}"`
      )
    ])
    const fromLayout = await obtainImage(`oci-layout:${layout}:1.0`, context())
    expect(digests(image)).toEqual(digests(fromLayout))
    expect(registry.requests.some((r) => r.includes('/manifests/1.0'))).toBe(true)
  })

  it('a pinned pull whose blobs are cached sends no request at all; a warm unpinned one sends one (the tag)', async () => {
    const { written } = await pushed('pinned', 'fledge/pinned', '2.0')
    const digest = written.images[0]!.digest
    const reference = `${registry.host}/fledge/pinned@${digest}`
    const cold = await obtainImage(reference, context())
    expect(cold.cacheHit).toBe(false)
    expect(cold.pinned).toBe(true)

    registry.requests.length = 0
    const logBefore = accessLines(registry.registryLog())
    expect(logBefore.join('\n')).toContain(
      `"GET /v2/fledge/pinned/blobs/${cold.layers[1]!.digest} HTTP/1.1" 200`
    )
    const warm = context()
    const again = await obtainImage(reference, warm)
    expect(registry.requests).toEqual([])
    expect(accessLines(registry.registryLog())).toEqual(logBefore)
    expect(again.cacheHit).toBe(true)
    expect(warm.log.warnings).toEqual([])
    expect(digests(again)).toEqual(digests(cold))
    // The cached copies are what the layers point at, and they are the blobs.
    for (const layer of again.layers)
      expect(layer.path.startsWith(process.env['RUNNER_TOOL_CACHE']!)).toBe(true)

    const unpinned = await obtainImage(`${registry.host}/fledge/pinned:2.0`, context())
    expect(registry.requests).toEqual(['GET /v2/fledge/pinned/manifests/2.0'])
    expect(digests(unpinned)).toEqual(digests(cold))
  })

  it('without the cache, blobs are fetched into the build temp folder and the cache is left alone', async () => {
    const { written } = await pushed('no-cache', 'fledge/nocache', '1')
    const ctx = context({ useCache: false })
    const image = await obtainImage(`${registry.host}/fledge/nocache@${written.digest}`, ctx)
    expect(image.digest).toBe(written.images[0]!.digest)
    for (const layer of image.layers) {
      expect(layer.path.startsWith(ctx.tempDir)).toBe(true)
      const entry = path.join(
        process.env['RUNNER_TOOL_CACHE']!,
        'fledge-image-blobs',
        `0.0.0-sha256-${layer.digest.slice(7)}`
      )
      expect(fs.existsSync(entry)).toBe(false)
    }
    registry.requests.length = 0
    await obtainImage(
      `${registry.host}/fledge/nocache@${written.digest}`,
      context({ useCache: false })
    )
    expect(registry.requests.length).toBeGreaterThan(0)
  })

  it('a tag the registry lacks is a clear error naming the tag and the repository', async () => {
    await pushed('missing', 'fledge/missing', '1.0')
    const error = await failure(
      obtainImage(
        `${registry.host}/fledge/missing:9.9`,
        context({ where: { file: 'fledge.toml', line: 4, key: '[source] image' } })
      )
    )
    expect(error.format()).toBe(
      `fledge.toml:4: [source] image: ${registry.host}/fledge/missing has no tag "9.9" (the registry answered HTTP 404). Fix: check the tag and the repository name in [source] image (skopeo list-tags docker://${registry.host}/fledge/missing lists the tags).`
    )
  })

  it('a blob corrupted on the way is refused, naming the digest, and nothing of it is cached', async () => {
    const { written } = await pushed('corrupt', 'fledge/corrupt', '1.0')
    const layer = written.images[0]!.layers[0]!.digest
    registry.corrupt.add(layer)
    try {
      const error = await failure(obtainImage(`${registry.host}/fledge/corrupt:1.0`, context()))
      expect(error.format()).toMatch(
        new RegExp(
          `^layer 1 ${layer} from ${registry.host.replace(/\./g, '\\.')}/fledge/corrupt does not match its digest: its bytes hash to sha256:[0-9a-f]{64}; refused\\. Fix: `
        )
      )
    } finally {
      registry.corrupt.delete(layer)
    }
    registry.requests.length = 0
    const image = await obtainImage(`${registry.host}/fledge/corrupt:1.0`, context())
    expect(image.layers[0]!.digest).toBe(layer)
    expect(registry.requests).toContain(`GET /v2/fledge/corrupt/blobs/${layer}`)
  })

  it('Docker v2 schema 2 manifest lists and manifests (skopeo --format v2s2) with Docker media types', async () => {
    const layout = folder('layout')
    const spec = multiArch('v2s2').map((image) => ({
      ...image,
      layers: image.layers.map((l) => ({ ...l, compression: 'gzip' as const }))
    }))
    writeOciLayout(layout, '1', spec)
    await registry.push(`oci:${layout}:1`, 'fledge/docker:1', ['--format', 'v2s2'])
    const image = await obtainImage(`${registry.host}/fledge/docker:1`, context())
    expect(image.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar.gzip'
    ])
    expect(image.config.architecture).toBe('amd64')
    const fromLayout = await obtainImage(`oci-layout:${layout}:1`, context())
    expect(image.layers.map((l) => l.digest)).toEqual(fromLayout.layers.map((l) => l.digest))
  })
})

describe('the same image from oci-archive and docker-archive', () => {
  it("oci-archive (a tar of the layout) gives the layout's digests", async () => {
    const layout = folder('layout')
    writeOciLayout(layout, 'v1', multiArch('archive'))
    const archive = path.join(folder('archive'), 'image.tar')
    execFileSync('tar', ['-C', layout, '-cf', archive, '.'])
    const ctx = context()
    const fromArchive = await obtainImage(`oci-archive:${archive}:v1`, ctx)
    const fromLayout = await obtainImage(`oci-layout:${layout}:v1`, context())
    expect(digests(fromArchive)).toEqual(digests(fromLayout))
    expect(fromArchive.origin).toBe(`oci-archive:${archive}`)
    expect(fromArchive.config).toEqual(fromLayout.config)
    for (const layer of fromArchive.layers) expect(layer.path.startsWith(ctx.tempDir)).toBe(true)
  })

  it("docker-archive, as skopeo writes it and in docker save's two layouts: same config, layers are the diff IDs", async () => {
    const layout = folder('layout')
    // docker archives hold no zstd: gzip and plain layers.
    const spec = multiArch('docker')
      .slice(0, 1)
      .map((image) => ({
        ...image,
        layers: [image.layers[0]!, { ...image.layers[1]!, compression: 'none' as const }]
      }))
    const written = writeOciLayout(layout, 'v1', spec)
    const fromLayout = await obtainImage(`oci-layout:${layout}:v1`, context())
    const configDigest = written.images[0]!.configDigest
    const configBytes = fs.readFileSync(path.join(layout, 'blobs', 'sha256', configDigest.slice(7)))
    const diffIds = (JSON.parse(configBytes.toString()) as { rootfs: { diff_ids: string[] } })
      .rootfs.diff_ids
    const uncompressed = diffIds.map((d) => [d, 'application/vnd.oci.image.layer.v1.tar'])

    const bySkopeo = path.join(folder('archive'), 'skopeo.tar')
    await skopeoCopy(`oci:${layout}:v1`, `docker-archive:${bySkopeo}:fledge/app:v1`)

    const layerTars = spec[0]!.layers.map((l) => tarOf(l.entries))
    // docker save before 25: <id>/layer.tar and <hex>.json.
    const classic = path.join(folder('archive'), 'classic.tar')
    fs.writeFileSync(
      classic,
      tarOf([
        {
          name: 'manifest.json',
          body: JSON.stringify([
            {
              Config: `${configDigest.slice(7)}.json`,
              RepoTags: ['fledge/app:v1'],
              Layers: ['aaa/layer.tar', 'bbb/layer.tar']
            }
          ])
        },
        { name: `${configDigest.slice(7)}.json`, body: configBytes },
        { name: 'aaa' },
        { name: 'aaa/layer.tar', body: layerTars[0]! },
        { name: 'bbb' },
        { name: 'bbb/layer.tar', body: layerTars[1]! }
      ])
    )
    // docker save 25 and later: an OCI layout inside, manifest.json naming blobs/sha256/<hex>.
    const blobName = (d: string): string => `blobs/sha256/${d.slice(7)}`
    const modern = path.join(folder('archive'), 'modern.tar')
    fs.writeFileSync(
      modern,
      tarOf([
        {
          name: 'manifest.json',
          body: JSON.stringify([
            {
              Config: blobName(configDigest),
              RepoTags: ['fledge/app:v1'],
              Layers: diffIds.map(blobName)
            }
          ])
        },
        { name: blobName(configDigest), body: configBytes },
        { name: blobName(diffIds[0]!), body: layerTars[0]! },
        { name: blobName(diffIds[1]!), body: layerTars[1]! }
      ])
    )

    const references = [
      `docker-archive:${bySkopeo}`,
      `docker-archive:${classic}:fledge/app:v1`,
      `docker-archive:${modern}`
    ]
    for (const reference of references) {
      const image = await obtainImage(reference, context())
      expect({
        reference,
        configDigest: image.configDigest,
        digest: image.digest,
        layers: image.layers.map((l) => [l.digest, l.mediaType])
      }).toEqual({
        reference,
        configDigest,
        digest: configDigest,
        layers: uncompressed
      })
      expect(image.config).toEqual(fromLayout.config)
    }

    const error = await failure(obtainImage(`docker-archive:${classic}:fledge/other:v1`, context()))
    expect(error.format()).toContain(
      `has no image tagged "fledge/other:v1"; it has "fledge/app:v1". Fix: `
    )
  })

  it("docker-archive: a layer that does not match the config's diff ID is refused", async () => {
    const config = JSON.stringify({
      os: 'linux',
      architecture: 'amd64',
      config: {},
      rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] }
    })
    const archive = path.join(folder('archive'), 'bad.tar')
    fs.writeFileSync(
      archive,
      tarOf([
        {
          name: 'manifest.json',
          body: JSON.stringify([{ Config: 'config.json', Layers: ['x/layer.tar'] }])
        },
        { name: 'config.json', body: config },
        { name: 'x/layer.tar', body: tarOf([{ name: 'hello', body: 'hi' }]) }
      ])
    )
    const error = await failure(obtainImage(`docker-archive:${archive}`, context()))
    expect(error.format()).toContain(
      `layer 1 (x/layer.tar) sha256:${'0'.repeat(64)} from the docker archive ${archive} does not match its digest: its bytes hash to sha256:`
    )
  })

  it('a missing local path is one sentence naming it and the folder paths are relative to', async () => {
    const error = await failure(
      obtainImage(
        'oci-archive:nope.tar',
        context({ where: { file: 'fledge.toml', key: '[source] image' } })
      )
    )
    expect(error.format()).toBe(
      `fledge.toml: [source] image: "oci-archive:nope.tar" names ${path.join(scratch, 'nope.tar')}, which does not exist. Fix: paths in [source] image are relative to fledge.toml's folder (${scratch}); check the path.`
    )
  })
})

describe('private repositories', () => {
  const image = 'private/app'
  function dockerConfig(entries: object): string {
    const file = path.join(folder('docker'), 'config.json')
    fs.writeFileSync(file, JSON.stringify(entries))
    return file
  }
  const auth = (user: string, password: string) => ({
    auth: Buffer.from(`${user}:${password}`).toString('base64')
  })

  describe('behind Basic auth (docker-registry htpasswd)', () => {
    let registry: TestRegistry
    let written: WrittenLayout
    beforeAll(async () => {
      registry = await startRegistry({ auth: 'basic' })
      const layout = fs.mkdtempSync(path.join(scratch, 'basic-'))
      written = writeOciLayout(layout, '1', multiArch('basic'))
      await registry.push(`oci:${layout}:1`, `${image}:1`)
    })
    afterAll(async () => {
      await registry?.stop()
    })

    it('pulls with the login from docker config.json (auths, base64 auth)', async () => {
      const config = dockerConfig({
        auths: { [`http://${registry.host}`]: auth(TEST_USER, TEST_PASSWORD) }
      })
      const pulled = await obtainImage(
        `${registry.host}/${image}:1`,
        context({ dockerConfigPath: config })
      )
      expect(pulled.digest).toBe(written.images[0]!.digest)
    })

    it('pulls with credentials given by the face', async () => {
      const credentials = { [registry.host]: { username: TEST_USER, password: TEST_PASSWORD } }
      const pulled = await obtainImage(
        `${registry.host}/${image}@${written.digest}`,
        context({ useCache: false, credentials })
      )
      expect(pulled.digest).toBe(written.images[0]!.digest)
    })

    it('without a login: one sentence saying the registry needs credentials and how to give them', async () => {
      const ctx = context()
      const error = await failure(obtainImage(`${registry.host}/${image}:1`, ctx))
      expect(error.format()).toBe(
        `${registry.host}/${image} needs credentials (the registry answered HTTP 401) and none were found for ${registry.host}. Fix: log in so that ${ctx.dockerConfigPath} has an "auths" entry for ${registry.host} (docker login ${registry.host}); check the repository name too, as registries answer 401 for repositories that do not exist.`
      )
      const helper = dockerConfig({ credsStore: 'desktop' })
      const withHelper = await failure(
        obtainImage(`${registry.host}/${image}:1`, context({ dockerConfigPath: helper }))
      )
      expect(withHelper.format()).toContain(
        `${helper} keeps its logins in docker-credential-desktop, which fledge does not run`
      )
    })

    it('a wrong password is refused naming where the credentials came from', async () => {
      const config = dockerConfig({ auths: { [registry.host]: auth(TEST_USER, 'wrong') } })
      const error = await failure(
        obtainImage(`${registry.host}/${image}:1`, context({ dockerConfigPath: config }))
      )
      expect(error.format()).toBe(
        `the registry ${registry.host} refused the credentials from ${config} for ${registry.host}/${image}: it answered HTTP 401. Fix: check the user name and password (or token) for ${registry.host}, and that they may pull ${image}.`
      )
    })
  })

  describe('behind a Bearer token realm (a loopback token service in front of docker-registry)', () => {
    let registry: TestRegistry
    let written: WrittenLayout
    beforeAll(async () => {
      registry = await startRegistry({ auth: 'bearer' })
      const layout = fs.mkdtempSync(path.join(scratch, 'bearer-'))
      written = writeOciLayout(layout, '1', multiArch('bearer'))
      await registry.push(`oci:${layout}:1`, `${image}:1`)
    })
    afterAll(async () => {
      await registry?.stop()
    })

    it('gets a token with the login and pulls; warm and pinned it asks nothing, not even a token', async () => {
      const config = dockerConfig({ auths: { [registry.host]: auth(TEST_USER, TEST_PASSWORD) } })
      registry.requests.length = 0
      const pulled = await obtainImage(
        `${registry.host}/${image}:1`,
        context({ dockerConfigPath: config })
      )
      expect(pulled.digest).toBe(written.images[0]!.digest)
      expect(registry.requests.slice(0, 3)).toEqual([
        `GET /v2/${image}/manifests/1`,
        'GET /token?service=fledge-test&scope=repository%3Aprivate%2Fapp%3Apull',
        `GET /v2/${image}/manifests/1`
      ])
      registry.requests.length = 0
      const warm = await obtainImage(
        `${registry.host}/${image}@${pulled.digest}`,
        context({ dockerConfigPath: config })
      )
      expect(registry.requests).toEqual([])
      expect(warm.cacheHit).toBe(true)

      // Manifests cached but a layer not: the first request is for a blob, so the client learns the auth at /v2/ first.
      const layerEntry = path.join(
        process.env['RUNNER_TOOL_CACHE']!,
        'fledge-image-blobs',
        `0.0.0-sha256-${pulled.layers[1]!.digest.slice(7)}`
      )
      fs.rmSync(layerEntry, { recursive: true })
      const refetched = await obtainImage(
        `${registry.host}/${image}@${pulled.digest}`,
        context({ dockerConfigPath: config })
      )
      expect(refetched.layers[1]!.digest).toBe(pulled.layers[1]!.digest)
      expect(registry.requests).toEqual([
        'GET /v2/',
        'GET /token?service=fledge-test&scope=repository%3Aprivate%2Fapp%3Apull',
        'GET /v2/',
        `GET /v2/${image}/blobs/${pulled.layers[1]!.digest}`
      ])
    })

    it('without a login the token service says no, and the error says credentials are needed', async () => {
      const error = await failure(obtainImage(`${registry.host}/${image}:1`, context()))
      expect(error.format()).toContain(
        `${registry.host}/${image} needs credentials (the registry answered HTTP 401) and none were found`
      )
    })
  })

  it('a token that expires in the middle of a pull is renewed once, and the pull goes on', async () => {
    const registry = await startRegistry({ auth: 'bearer', anonymousTokens: true, tokenUses: 3 })
    try {
      const layout = folder('layout')
      const written = writeOciLayout(layout, '1', multiArch('expiring'))
      await registry.push(`oci:${layout}:1`, 'public/expiring:1')
      const pulled = await obtainImage(`${registry.host}/public/expiring:1`, context())
      expect(pulled.digest).toBe(written.images[0]!.digest)
      const [first, second] = pulled.layers.map((l) => l.digest)
      expect(registry.requests.slice(-6)).toEqual([
        `GET /v2/public/expiring/blobs/${first}`,
        'GET /v2/',
        'GET /token?service=fledge-test&scope=repository%3Apublic%2Fexpiring%3Apull',
        'GET /v2/',
        `GET /v2/public/expiring/blobs/${first}`,
        `GET /v2/public/expiring/blobs/${second}`
      ])
    } finally {
      await registry.stop()
    }
  })

  it('anonymous Bearer tokens (as Docker Hub and GHCR give for public images) need no login', async () => {
    const registry = await startRegistry({ auth: 'bearer', anonymousTokens: true })
    try {
      const layout = folder('layout')
      const written = writeOciLayout(layout, '1', multiArch('anonymous'))
      await registry.push(`oci:${layout}:1`, 'public/app:1')
      const pulled = await obtainImage(`${registry.host}/public/app:1`, context())
      expect(pulled.digest).toBe(written.images[0]!.digest)
      expect(registry.requests).toContain(
        'GET /token?service=fledge-test&scope=repository%3Apublic%2Fapp%3Apull'
      )
    } finally {
      await registry.stop()
    }
  })
})

describe('lookupCredentials', () => {
  it("reads auths in its spellings, prefers the face's credentials, and uses the job token for ghcr.io only", async () => {
    const file = path.join(folder('docker'), 'config.json')
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    fs.writeFileSync(
      file,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pw') },
          'https://ghcr.io': { auth: b64('me:ghp') }
        },
        credHelpers: { 'registry.example.com': 'ecr-login' }
      })
    )
    expect(
      (await lookupCredentials('docker.io', { dockerConfigPath: file })).credentials
    ).toMatchObject({ username: 'hub', password: 'pw', source: file })
    expect(
      (await lookupCredentials('ghcr.io', { dockerConfigPath: file, githubToken: 'job' }))
        .credentials
    ).toMatchObject({ username: 'me', password: 'ghp' })
    const none = path.join(scratch, 'none.json')
    expect(
      (await lookupCredentials('ghcr.io', { dockerConfigPath: none, githubToken: 'job' }))
        .credentials
    ).toMatchObject({ password: 'job' })
    expect(
      (await lookupCredentials('quay.io', { dockerConfigPath: file, githubToken: 'job' }))
        .credentials
    ).toBeUndefined()
    expect(await lookupCredentials('registry.example.com', { dockerConfigPath: file })).toEqual({
      helper: 'ecr-login',
      configPath: file
    })
    const given = { 'docker.io': { username: 'u', password: 'p' } }
    expect(
      (await lookupCredentials('docker.io', { dockerConfigPath: file, credentials: given }))
        .credentials
    ).toMatchObject({ username: 'u' })
    fs.writeFileSync(file, '{ not json')
    await expect(lookupCredentials('docker.io', { dockerConfigPath: file })).rejects.toThrow(
      `${file} is not valid JSON.`
    )
  })
})

function accessLines(log: string): string[] {
  return log.split('\n').filter((line) => /"(GET|HEAD) \/v2\//.test(line))
}
