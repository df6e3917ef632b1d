import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as zlib from 'node:zlib'
import { Decompress as ZstdDecompress } from 'fzstd'
import { removeLater } from '../cleanup.js'
import { FledgeError } from '../errors.js'
import { imageOrigin, type Entry } from '../image/entry.js'
import { ChunkReader, TarFormatError, TarReader, type TarEntry } from './tar.js'
import type { ContainerImage, ImageLayer } from './types.js'

export type LayerCompression = 'tar' | 'gzip' | 'zstd'

export interface AppliedLayers {
  /** The image's filesystem, every parent folder present, without the root itself. */
  entries: Entry[]
  warnings: string[]
}

export interface ApplyOptions {
  /** Where regular files' bytes are extracted (names by number, never the layer's paths); a new temp folder of the build scope when absent. */
  tempDir?: string
}

/** newc stores uid, gid, device numbers and sizes in 32 bits. */
const MAX_NEWC = 0xffffffff
/** Files up to this size stay in memory, until the budget below is spent; larger ones go to a temp file. */
const SMALL_FILE = 16 * 1024
const IN_MEMORY_BUDGET = 64 * 1024 * 1024
/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINK_HOPS = 40

const MEDIA_TYPES: Record<string, LayerCompression> = {
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip'
}

/**
 * Lays the image's layers down in order, as a container runtime would, into
 * entries: whiteouts (`.wh.NAME`) remove what lower layers put there, an
 * opaque marker (`.wh..wh..opq`) empties a folder of lower layers' content;
 * modes, owners, device numbers and link targets are kept as the layers say.
 *
 * Hard links become regular files with the linked file's content and
 * metadata (the image value has no link type; newc would need shared inode
 * numbers). A later layer changing one of them does not change the other,
 * as with overlayfs' copy-up.
 *
 * Paths are resolved inside the image: a parent folder that is a symlink
 * (`lib -> usr/lib`) is followed within the image root, never on the host;
 * names with `..` or a leading `/` are refused.
 */
export async function applyLayers(image: ContainerImage, options: ApplyOptions = {}): Promise<AppliedLayers> {
  const tempDir = options.tempDir ?? (await makeTempDir())
  const applier = new LayerApplier(image, tempDir)
  for (const [index, layer] of image.layers.entries()) {
    await applier.apply(index, layer)
  }
  return applier.result()
}

async function makeTempDir(): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'fledge-image-'))
  removeLater(dir)
  return dir
}

/** What the layer's first bytes say it is; undefined when none of the three. */
export function sniffCompression(head: Buffer): LayerCompression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar'
  // An empty layer: only the end-of-archive marker.
  if (head.length >= 512 && head.subarray(0, 512).every((byte) => byte === 0)) return 'tar'
  return undefined
}

class LayerApplier {
  private readonly tree = new Map<string, Entry>()
  private readonly origin: string
  private fileCount = 0
  private inMemory = 0
  private readonly xattrs: string[] = []

  constructor(
    private readonly image: ContainerImage,
    private readonly tempDir: string
  ) {
    this.origin = imageOrigin(image.reference)
  }

  result(): AppliedLayers {
    const warnings: string[] = []
    if (this.xattrs.length > 0) {
      warnings.push(
        `${this.xattrs.length} file(s) of image ${this.image.reference} carry extended attributes (e.g. ${this.xattrs[0]}), which an initramfs (newc cpio) cannot hold: they are left out.`
      )
    }
    return { entries: [...this.tree.values()], warnings }
  }

  async apply(index: number, layer: ImageLayer): Promise<void> {
    const where = `layer ${index + 1} of ${this.image.layers.length} (${layer.digest}) of image ${this.image.reference}`
    const compression = await this.checkCompression(layer, where)
    const added = new Set<string>()
    const input = fs.createReadStream(layer.path)
    const decompressed =
      compression === 'gzip' ? input.pipe(zlib.createGunzip()) : compression === 'zstd' ? input.pipe(zstdDecoder()) : input
    // pipe() does not forward errors: a read error must still end the loop below.
    input.on('error', (error) => decompressed.destroy(error))
    const reader = new TarReader(new ChunkReader(decompressed[Symbol.asyncIterator]()))
    let current: string | undefined
    try {
      for (let entry = await reader.next(); entry; entry = await reader.next()) {
        current = entry.name
        await this.applyEntry(entry, reader, added)
      }
    } catch (error) {
      decompressed.destroy()
      input.destroy()
      throw layerError(error, where, current)
    }
  }

  private async checkCompression(layer: ImageLayer, where: string): Promise<LayerCompression> {
    const declared = MEDIA_TYPES[layer.mediaType]
    if (!declared) {
      throw new FledgeError(`${where} has the media type ${JSON.stringify(layer.mediaType)}, which is not a filesystem layer fledge can apply.`, {
        fix: 'use an image whose layers are tar, tar+gzip or tar+zstd (OCI or Docker media types).'
      })
    }
    const handle = await fs.promises.open(layer.path, 'r')
    let head: Buffer
    try {
      head = Buffer.alloc(512)
      const { bytesRead } = await handle.read(head, 0, 512, 0)
      head = head.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
    const actual = sniffCompression(head)
    if (actual !== declared) {
      throw new FledgeError(
        `${where} is declared ${layer.mediaType} (${declared}), but its bytes are ${actual === undefined ? 'neither tar, gzip nor zstd' : actual}.`,
        { fix: 'rebuild or re-push the image with a tool that labels its layers correctly; fledge does not guess which one is right.' }
      )
    }
    return declared
  }

  private async applyEntry(entry: TarEntry, reader: TarReader, added: Set<string>): Promise<void> {
    const name = normalizeName(entry.name, 'name')
    if (name === '.') return // the image root stays fledge's: 0755, root-owned
    const base = path.posix.basename(name)
    const parentName = path.posix.dirname(name)
    if (base === '.wh..wh..opq') {
      const dir = this.resolveDir(parentName, false)
      if (dir !== undefined) this.removeBelow(dir, added)
      return
    }
    // Other `.wh..wh.` names are aufs bookkeeping (hard-link folders), not content.
    if (base.startsWith('.wh..wh.')) return
    if (base.startsWith('.wh.')) {
      const dir = this.resolveDir(parentName, false)
      if (dir === undefined) return
      const target = join(dir, base.slice(4))
      if (!added.has(target)) {
        this.tree.delete(target)
        this.removeBelow(target, added)
      }
      return
    }
    if (entry.xattrs.length > 0) this.xattrs.push(`${entry.xattrs[0]} on /${name}`)
    for (const [what, value] of [['uid', entry.uid], ['gid', entry.gid], ['size', entry.size], ['device major', entry.devmajor], ['device minor', entry.devminor]] as const) {
      if (value > MAX_NEWC) throw new TarFormatError(`its ${what} ${value} does not fit the 32 bits of an initramfs (newc) record`)
    }
    const dir = this.resolveDir(parentName, true) as string
    const at = join(dir, base)
    const record = await this.toEntry(entry, at, reader)
    const existing = this.tree.get(at)
    if (existing?.type === 'dir' && record.type !== 'dir') this.removeBelow(at, new Set())
    this.tree.set(at, record)
    added.add(at)
  }

  private async toEntry(entry: TarEntry, at: string, reader: TarReader): Promise<Entry> {
    const common = { path: at, mode: entry.mode, uid: entry.uid, gid: entry.gid, origin: this.origin }
    switch (entry.type) {
      case 'dir':
        return { ...common, type: 'dir' }
      case 'symlink':
        return { ...common, type: 'symlink', target: entry.linkname }
      case 'char':
      case 'block':
        return { ...common, type: entry.type, rdev: { major: entry.devmajor, minor: entry.devminor } }
      case 'fifo':
        return { ...common, type: 'fifo' }
      case 'hardlink': {
        const linked = normalizeName(entry.linkname, 'hard link target')
        const dir = this.resolveDir(path.posix.dirname(linked), false)
        const target = dir === undefined ? undefined : this.tree.get(join(dir, path.posix.basename(linked)))
        if (!target) throw new TarFormatError(`it is a hard link to ${JSON.stringify(entry.linkname)}, which no earlier entry or lower layer provides`)
        if (target.type === 'dir') throw new TarFormatError(`it is a hard link to the folder ${JSON.stringify(entry.linkname)}`)
        return { ...target, path: at, origin: this.origin }
      }
      case 'file':
        return { ...common, type: 'file', source: await this.storeData(entry, reader) }
    }
  }

  private async storeData(entry: TarEntry, reader: TarReader): Promise<Entry['source'] & object> {
    if (entry.size <= SMALL_FILE && this.inMemory + entry.size <= IN_MEMORY_BUDGET) {
      const chunks: Buffer[] = []
      for await (const chunk of reader.data()) chunks.push(Buffer.from(chunk))
      this.inMemory += entry.size
      return { kind: 'bytes', data: Buffer.concat(chunks) }
    }
    const file = path.join(this.tempDir, String(this.fileCount++))
    await pipeline(reader.data(), fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }))
    return { kind: 'path', path: file, size: entry.size }
  }

  /**
   * The tree path of folder `name`, following symlinks inside the image.
   * `create`: missing folders are made (0755, root), as runtimes do for
   * layers that omit them; else undefined when it does not exist.
   */
  private resolveDir(name: string, create: boolean): string | undefined {
    let pending = name === '.' ? [] : name.split('/')
    const resolved: string[] = []
    let hops = 0
    while (pending.length > 0) {
      const [part, ...rest] = pending as [string, ...string[]]
      pending = rest
      if (part === '.' || part === '') continue
      if (part === '..') {
        resolved.pop()
        continue
      }
      resolved.push(part)
      const here = resolved.join('/')
      const existing = this.tree.get(here)
      if (!existing) {
        if (!create) return undefined
        this.tree.set(here, { path: here, type: 'dir', mode: 0o755, uid: 0, gid: 0, origin: this.origin })
        continue
      }
      if (existing.type === 'dir') continue
      if (existing.type === 'symlink' && existing.target !== undefined) {
        if (++hops > MAX_SYMLINK_HOPS) throw new TarFormatError(`resolving /${name} meets more than ${MAX_SYMLINK_HOPS} symlinks`)
        resolved.pop()
        if (existing.target.startsWith('/')) resolved.length = 0
        pending = [...existing.target.split('/'), ...pending]
        continue
      }
      if (!create) return undefined
      throw new TarFormatError(`/${here} is a ${existing.type}, but the entry needs it to be a folder`)
    }
    return resolved.length === 0 ? '.' : resolved.join('/')
  }

  /** Removes everything below `dir` that this layer did not add. */
  private removeBelow(dir: string, keep: Set<string>): void {
    const prefix = dir === '.' ? '' : `${dir}/`
    for (const key of this.tree.keys()) {
      if (key.startsWith(prefix) && !keep.has(key)) this.tree.delete(key)
    }
  }
}

function join(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`
}

/** "./usr/bin/" → "usr/bin"; "./" → "."; `..` anywhere or a leading "/" is refused. */
export function normalizeName(name: string, what: string): string {
  if (name.startsWith('/')) throw new TarFormatError(`its ${what} ${JSON.stringify(name)} is absolute`)
  const parts = name.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new TarFormatError(`its ${what} ${JSON.stringify(name)} contains '..', which could reach outside the image`)
  return parts.length === 0 ? '.' : parts.join('/')
}

function layerError(error: unknown, where: string, entry: string | undefined): unknown {
  if (error instanceof FledgeError) return error
  const at = entry === undefined ? '' : ` at the entry ${JSON.stringify(entry)}`
  if (error instanceof TarFormatError) {
    return new FledgeError(`${where} cannot be applied${at}: ${error.message}.`, {
      fix: 'rebuild the image with a standard tool (docker, buildah, umoci); fledge refuses layers it cannot lay down exactly.'
    })
  }
  const code = (error as NodeJS.ErrnoException).code
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new FledgeError(`${where} is not valid gzip${at}: ${(error as Error).message}.`, { fix: 'pull or export the image again.' })
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return error
  return new FledgeError(`${where} could not be decompressed${at}: ${(error as Error).message}.`, { fix: 'pull or export the image again.' })
}

/** fzstd as a Node stream; it decodes synchronously, so errors surface from push(). */
function zstdDecoder(): Transform {
  const decoder = new ZstdDecompress()
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        decoder.push(chunk)
        done()
      } catch (error) {
        done(zstdError(error))
      }
    },
    flush(done: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true)
        done()
      } catch (error) {
        done(zstdError(error))
      }
    }
  })
  // fzstd may reuse its output buffer: copy before handing it on.
  decoder.ondata = (data) => void transform.push(Buffer.from(data))
  return transform
}

function zstdError(error: unknown): Error {
  return new Error(`zstd: ${(error as Error).message || 'invalid data'}`)
}
