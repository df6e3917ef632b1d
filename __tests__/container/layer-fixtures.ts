/**
 * Container image layers made by the tests: a small tar writer (ustar, pax and
 * GNU long-name records, device nodes, whiteouts) and ContainerImage values
 * whose layer blobs are real files, compressed with node:zlib or Debian's zstd.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import type { ContainerImage, ImageConfigSummary } from '../../src/container/types.js'

export interface TarItem {
  name: string
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo'
  mode?: number
  uid?: number
  gid?: number
  data?: string | Buffer
  linkname?: string
  major?: number
  minor?: number
  /** Extra pax records for this entry (path/linkpath are added automatically for long names). */
  pax?: Record<string, string>
  /** Write a long name as a GNU 'L' record instead of pax. */
  gnuLongName?: boolean
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const

export function tarLayer(items: TarItem[]): Buffer {
  const blocks: Buffer[] = []
  for (const item of items) {
    const type = item.type ?? 'file'
    const data = type === 'file' ? Buffer.from(item.data ?? '') : Buffer.alloc(0)
    const pax: Record<string, string> = { ...(item.pax ?? {}) }
    let name = item.name
    let linkname = item.linkname ?? ''
    if (Buffer.byteLength(name) > 100) {
      if (item.gnuLongName) {
        blocks.push(...record(header({ name: '././@LongLink', typeflag: 'L', size: Buffer.byteLength(name) + 1, gnu: true }), Buffer.from(`${name}\0`)))
      } else pax['path'] = name
      name = name.slice(0, 100)
    }
    if (Buffer.byteLength(linkname) > 100) {
      pax['linkpath'] = linkname
      linkname = linkname.slice(0, 100)
    }
    if (Object.keys(pax).length > 0) {
      const body = Buffer.from(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''))
      blocks.push(...record(header({ name: 'PaxHeaders/x', typeflag: 'x', size: body.length }), body))
    }
    blocks.push(
      ...record(
        header({
          name,
          typeflag: TYPEFLAG[type],
          size: data.length,
          mode: item.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
          uid: item.uid ?? 0,
          gid: item.gid ?? 0,
          linkname,
          major: item.major ?? 0,
          minor: item.minor ?? 0,
          gnu: item.gnuLongName ?? false
        }),
        data
      )
    )
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let length = Buffer.byteLength(body) + 1
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body)
  return `${length}${body}`
}

function record(head: Buffer, data: Buffer): Buffer[] {
  const pad = (512 - (data.length % 512)) % 512
  return [head, data, Buffer.alloc(pad)]
}

function header(h: { name: string; typeflag: string; size: number; mode?: number; uid?: number; gid?: number; linkname?: string; major?: number; minor?: number; gnu?: boolean }): Buffer {
  const block = Buffer.alloc(512)
  const octal = (value: number, offset: number, width: number) => block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'latin1')
  block.write(h.name, 0, 100, 'utf8')
  octal(h.mode ?? 0o644, 100, 8)
  octal(h.uid ?? 0, 108, 8)
  octal(h.gid ?? 0, 116, 8)
  octal(h.size, 124, 12)
  octal(1704067200, 136, 12)
  block.write(h.typeflag, 156, 'latin1')
  block.write(h.linkname ?? '', 157, 100, 'utf8')
  block.write(h.gnu ? 'ustar  \0' : 'ustar\u000000', 257, 'latin1')
  octal(h.major ?? 0, 329, 8)
  octal(h.minor ?? 0, 337, 8)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return block
}

export type Compression = 'tar' | 'gzip' | 'zstd'

const MEDIA: Record<Compression, string> = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd'
}

export function compress(tar: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return zlib.gzipSync(tar, { level: 6 })
  if (compression === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 })
  return tar
}

export interface LayerSpec {
  items: TarItem[]
  compression?: Compression
  /** Override the declared media type (to make it contradict the bytes). */
  mediaType?: string
}

/** A ContainerImage whose blobs are files in `dir`, named by digest as in a blob cache. */
export function makeImage(dir: string, layers: LayerSpec[], config: Partial<ImageConfigSummary> = {}): ContainerImage {
  fs.mkdirSync(dir, { recursive: true })
  const written = layers.map((layer) => {
    const compression = layer.compression ?? 'gzip'
    const blob = compress(tarLayer(layer.items), compression)
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`
    const file = path.join(dir, digest.replace(':', '-'))
    fs.writeFileSync(file, blob)
    return { digest, mediaType: layer.mediaType ?? MEDIA[compression], size: blob.length, path: file }
  })
  return {
    reference: 'test/image:1',
    origin: `oci-layout:${dir}`,
    digest: `sha256:${'0'.repeat(64)}`,
    pinned: true,
    config: { os: 'linux', architecture: 'amd64', env: [], ...config },
    layers: written,
    cacheHit: true
  }
}

/** An OCI image layout in `dir` holding one linux image tagged `tag`; returns the manifest's digest. */
export function writeLayout(dir: string, tag: string, layers: LayerSpec[], config: { architecture?: string; env?: string[]; entrypoint?: string[]; cmd?: string[]; workingDir?: string; user?: string } = {}): string {
  const blobs = path.join(dir, 'blobs', 'sha256')
  fs.mkdirSync(blobs, { recursive: true })
  const put = (bytes: Buffer): string => {
    const hex = createHash('sha256').update(bytes).digest('hex')
    fs.writeFileSync(path.join(blobs, hex), bytes)
    return `sha256:${hex}`
  }
  const written = layers.map((layer) => {
    const tar = tarLayer(layer.items)
    const compression = layer.compression ?? 'gzip'
    const blob = compress(tar, compression)
    return { mediaType: layer.mediaType ?? MEDIA[compression], digest: put(blob), size: blob.length, diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` }
  })
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: config.architecture ?? 'amd64',
      os: 'linux',
      config: {
        Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
        ...(config.cmd ? { Cmd: config.cmd } : {}),
        ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
        ...(config.user ? { User: config.user } : {})
      },
      rootfs: { type: 'layers', diff_ids: written.map((l) => l.diffId) }
    })
  )
  const configDigest = put(configBytes)
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBytes.length },
      layers: written.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }))
    })
  )
  const digest = put(manifest)
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]
    })
  )
  return digest
}
