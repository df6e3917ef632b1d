/**
 * A real registry for tests: Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1, behind a small loopback proxy that logs every request, can demand
 * Bearer tokens from its own token service, and can corrupt blobs on the way.
 * Images are pushed with Debian's skopeo from OCI layouts written here.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'

const run = promisify(execFile)

export const TEST_USER = 'fledge'
export const TEST_PASSWORD = 'fledge-test-password'
/** bcrypt (cost 4) of TEST_PASSWORD, for docker-registry's htpasswd (made once with python3's crypt). */
const TEST_PASSWORD_BCRYPT = '$2b$04$j7jnkjdEFZrP7zmYzZyVROhJ1P1CfyZzeOWnxL0RqzA6YWHns62Pu'

const SETUP_HINT = 'run `bash scripts/setup.sh` (it installs docker-registry, skopeo and zstd)'

/** The tools these tests drive; a missing one fails the test with the set-up hint. */
export function requireTool(name: 'docker-registry' | 'skopeo' | 'zstd'): string {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat('/usr/bin')) {
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // next
    }
  }
  throw new Error(`${name} is not installed: ${SETUP_HINT}.`)
}

export interface RegistryOptions {
  /**
   * none: open; basic: docker-registry's own htpasswd auth; bearer: the proxy
   * answers 401 with a Bearer challenge whose realm is its /token service, which
   * gives tokens to TEST_USER (or to anyone, with anonymousTokens).
   */
  auth?: 'none' | 'basic' | 'bearer'
  anonymousTokens?: boolean
  /** A token serves this many requests, then the proxy answers 401 again (an expired token). */
  tokenUses?: number
}

export interface TestRegistry {
  /** host:port clients use (the proxy's). */
  host: string
  /** Every request the proxy saw, as "GET /v2/x/y/manifests/1.0"; clear it between phases. */
  requests: string[]
  /** Blob digests whose bytes the proxy alters (last byte flipped) on the way out. */
  corrupt: Set<string>
  /** The registry's own access log so far (each request it served, one line each). */
  registryLog(): string
  /**
   * Pushes `source` (a skopeo source such as oci:DIR:TAG) to repository:tag, every platform
   * of an index, digests kept; with `convert` (e.g. ['--format', 'v2s2']) skopeo may rewrite them.
   */
  push(source: string, target: string, convert?: string[]): Promise<void>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function waitForRegistry(
  port: number,
  child: ChildProcess,
  log: () => string
): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited (${child.exitCode}):\n${log()}`)
    const answered = await new Promise<boolean>((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (response) => {
        response.resume()
        resolve(true)
      })
      request.on('error', () => resolve(false))
    })
    if (answered) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`docker-registry did not answer on 127.0.0.1:${port}:\n${log()}`)
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const registryBin = requireTool('docker-registry')
  const skopeo = requireTool('skopeo')
  const auth = options.auth ?? 'none'
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-registry-'))
  const internalPort = await freePort()
  fs.writeFileSync(path.join(dir, 'htpasswd'), `${TEST_USER}:${TEST_PASSWORD_BCRYPT}\n`)
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${internalPort}`,
      '  secret: fledge-test-secret',
      ...(auth === 'basic'
        ? [
            'auth:',
            '  htpasswd:',
            '    realm: fledge-test',
            `    path: ${path.join(dir, 'htpasswd')}`
          ]
        : []),
      ''
    ].join('\n')
  )
  let output = ''
  const child = spawn(registryBin, ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const stopChild = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
  try {
    await waitForRegistry(internalPort, child, () => output)
  } catch (error) {
    await stopChild()
    fs.rmSync(dir, { recursive: true, force: true })
    throw error
  }

  const requests: string[] = []
  const corrupt = new Set<string>()
  const tokens = new Map<string, number>()
  const basic = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`
  const proxy = http.createServer((req, res) => {
    const url = req.url ?? '/'
    requests.push(`${req.method} ${url}`)
    const { port } = proxy.address() as AddressInfo
    if (auth === 'bearer') {
      if (url.startsWith('/token')) {
        if (!options.anonymousTokens && req.headers.authorization !== basic) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"errors":[{"code":"UNAUTHORIZED"}]}')
          return
        }
        const token = createHash('sha256').update(`${tokens.size}:${url}`).digest('hex')
        tokens.set(token, options.tokenUses ?? Infinity)
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token, expires_in: 300 }))
        return
      }
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      const uses = given === undefined ? 0 : (tokens.get(given) ?? 0)
      if (given !== undefined && uses > 0) tokens.set(given, uses - 1)
      if (uses <= 0) {
        const repository = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(url)?.[1]
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fledge-test"${repository ? `,scope="repository:${repository}:pull"` : ''}`
          })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        return
      }
    }
    const headers = { ...req.headers, host: `127.0.0.1:${internalPort}` }
    if (auth === 'bearer') delete headers.authorization
    const upstream = http.request(
      { host: '127.0.0.1', port: internalPort, method: req.method, path: url, headers },
      (answer) => {
        const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url)?.[1]
        if (digest && corrupt.has(digest) && answer.statusCode === 200) {
          const chunks: Buffer[] = []
          answer.on('data', (chunk: Buffer) => chunks.push(chunk))
          answer.on('end', () => {
            const body = Buffer.concat(chunks)
            body[body.length - 1] = body[body.length - 1]! ^ 0xff
            res.writeHead(200, answer.headers).end(body)
          })
          return
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`

  return {
    host,
    requests,
    corrupt,
    registryLog: () => output,
    async push(source, target, convert) {
      // Straight to the registry (not through the proxy), so the proxy's log holds only the pulls.
      const args = [
        '--insecure-policy',
        'copy',
        '--all',
        ...(convert ?? ['--preserve-digests']),
        '--quiet',
        '--dest-tls-verify=false'
      ]
      if (auth === 'basic') args.push('--dest-creds', `${TEST_USER}:${TEST_PASSWORD}`)
      await run(skopeo, [...args, source, `docker://127.0.0.1:${internalPort}/${target}`], {
        env: skopeoEnv(dir)
      })
    },
    async stop() {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
      await stopChild()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** skopeo with its own empty HOME, so no user's registries.conf or logins play a part. */
function skopeoEnv(dir: string): NodeJS.ProcessEnv {
  const home = path.join(dir, 'skopeo-home')
  fs.mkdirSync(home, { recursive: true })
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: home,
    XDG_CONFIG_HOME: home
  }
}

/** skopeo copy between local transports (oci:DIR:TAG → docker-archive:FILE:NAME:TAG), for archive tests. */
export async function skopeoCopy(
  source: string,
  destination: string,
  extra: string[] = []
): Promise<void> {
  const skopeo = requireTool('skopeo')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-skopeo-'))
  try {
    await run(skopeo, ['--insecure-policy', 'copy', '--quiet', ...extra, source, destination], {
      env: skopeoEnv(dir)
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ---- OCI layouts written by hand ----

export interface TarEntry {
  name: string
  /** A regular file with these bytes; without it, a folder. */
  body?: Buffer | string
  mode?: number
}

/** An uncompressed ustar archive with fixed owners and times (names up to 100 bytes). */
export function tarOf(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const entry of entries) {
    const body = entry.body === undefined ? undefined : Buffer.from(entry.body)
    const header = Buffer.alloc(512)
    const name = body ? entry.name : entry.name.replace(/\/?$/, '/')
    header.write(name, 0, 100, 'utf8')
    header.write(`${(entry.mode ?? (body ? 0o644 : 0o755)).toString(8).padStart(7, '0')}\0`, 100)
    header.write('0000000\0', 108)
    header.write('0000000\0', 116)
    header.write(`${(body?.length ?? 0).toString(8).padStart(11, '0')}\0`, 124)
    header.write('00000000000\0', 136)
    header.write('        ', 148)
    header.write(body ? '0' : '5', 156)
    header.write('ustar\0', 257)
    header.write('00', 263)
    let sum = 0
    for (const byte of header) sum += byte
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    blocks.push(header)
    if (body) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

export type LayerCompression = 'gzip' | 'zstd' | 'none'

export interface LayerSpec {
  entries: TarEntry[]
  compression: LayerCompression
}

export interface ImageSpec {
  architecture: string
  variant?: string
  layers: LayerSpec[]
  env?: string[]
  cmd?: string[]
  entrypoint?: string[]
}

export interface WrittenImage {
  architecture: string
  /** The image manifest's digest. */
  digest: string
  configDigest: string
  layers: { digest: string; mediaType: string }[]
}

export interface WrittenLayout {
  /** The index's digest when the image has several platforms; else the manifest's. */
  digest: string
  images: WrittenImage[]
}

const LAYER_TYPES: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar'
}

function compress(tar: Buffer, compression: LayerCompression): Buffer {
  if (compression === 'gzip') return gzipSync(tar)
  if (compression === 'zstd')
    return execFileSync(requireTool('zstd'), ['-q', '-c', '-3'], { input: tar })
  return tar
}

const sha256 = (bytes: Buffer): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** Writes `bytes` into the layout's blobs; returns its digest. */
export function writeBlob(layout: string, bytes: Buffer): string {
  const digest = sha256(bytes)
  const folder = path.join(layout, 'blobs', 'sha256')
  fs.mkdirSync(folder, { recursive: true })
  fs.writeFileSync(path.join(folder, digest.slice('sha256:'.length)), bytes)
  return digest
}

/**
 * An OCI layout in `layout` holding one image tagged `tag`: a plain manifest for
 * one platform, an index for several. Adds to index.json when the layout exists.
 */
export function writeOciLayout(layout: string, tag: string, images: ImageSpec[]): WrittenLayout {
  fs.mkdirSync(layout, { recursive: true })
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const written: WrittenImage[] = []
  const descriptors: object[] = []
  for (const image of images) {
    const layers = image.layers.map((layer) => {
      const tar = tarOf(layer.entries)
      const blob = compress(tar, layer.compression)
      return {
        mediaType: LAYER_TYPES[layer.compression],
        digest: writeBlob(layout, blob),
        size: blob.length,
        diffId: sha256(tar)
      }
    })
    const config = Buffer.from(
      JSON.stringify({
        architecture: image.architecture,
        ...(image.variant ? { variant: image.variant } : {}),
        os: 'linux',
        config: {
          Env: image.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
          ...(image.cmd ? { Cmd: image.cmd } : {})
        },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }
      })
    )
    const configDigest = writeBlob(layout, config)
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length
        },
        layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }))
      })
    )
    const digest = writeBlob(layout, manifest)
    written.push({
      architecture: image.architecture,
      digest,
      configDigest,
      layers: layers.map(({ digest, mediaType }) => ({ digest, mediaType }))
    })
    descriptors.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: manifest.length,
      platform: {
        architecture: image.architecture,
        os: 'linux',
        ...(image.variant ? { variant: image.variant } : {})
      }
    })
  }
  let top: { mediaType: string; digest: string; size: number }
  if (descriptors.length === 1) {
    const only = descriptors[0] as { mediaType: string; digest: string; size: number }
    top = { mediaType: only.mediaType, digest: only.digest, size: only.size }
  } else {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: descriptors
      })
    )
    top = {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: writeBlob(layout, index),
      size: index.length
    }
  }
  const indexFile = path.join(layout, 'index.json')
  const existing = fs.existsSync(indexFile)
    ? (JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { manifests: object[] }).manifests
    : []
  fs.writeFileSync(
    indexFile,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        ...existing,
        { ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }
      ]
    })
  )
  return { digest: top.digest, images: written }
}
