import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { decodeBytes, showPath } from '../display.js'
import { FledgeError } from '../errors.js'
import type { EntryType } from '../image/entry.js'
import { lz4LegacyDecompress, zstdDecompress } from './decompress.js'
import { LZ4_LEGACY_MAGIC } from './lz4.js'
import { ZSTD_MAGIC } from './zstd.js'
import { HEADER_SIZE, pad4, TRAILER_NAME, typeFromMode } from './newc.js'

/** The lz4 frame format (`lz4` without -l): 04 22 4d 18. */
const LZ4_FRAME_MAGIC = 0x184d2204

export interface ArchiveRecord {
  path: string
  type: EntryType
  /** Permission bits. */
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  target?: string
  rdev?: { major: number; minor: number }
  sha256?: string
}

/**
 * Reads what the kernel reads: newc archives, plain or compressed (gzip, zstd,
 * lz4 legacy; told apart by their magic), several concatenated (gzip members,
 * or raw cpio followed by a compressed one).
 */
export async function* readArchive(file: string): AsyncGenerator<ArchiveRecord> {
  yield* readSegments(new ByteReader(createReadStream(file, { highWaterMark: 1 << 20 })), file)
}

async function* readSegments(reader: ByteReader, file: string): AsyncGenerator<ArchiveRecord> {
  for (;;) {
    await reader.skipZeros()
    const magic = await reader.peek(6)
    if (magic.length === 0) return
    const word = magic.length >= 4 ? magic.readUInt32LE(0) : -1
    if (magic[0] === 0x1f && magic[1] === 0x8b) {
      const inflated = Readable.from(reader.rest()).pipe(createGunzip())
      yield* readSegments(new ByteReader(inflated), file)
      return
    }
    if (word === ZSTD_MAGIC) {
      yield* readSegments(new ByteReader(zstdDecompress(reader.rest(), file)), file)
      return
    }
    if (word === LZ4_LEGACY_MAGIC) {
      yield* readSegments(new ByteReader(lz4LegacyDecompress(reader.rest(), file)), file)
      return
    }
    if (word === LZ4_FRAME_MAGIC) {
      throw new FledgeError(`lz4 frame format at byte ${reader.offset}, which the kernel does not unpack.`, {
        file,
        fix: 'compress with `lz4 -l` (the legacy format), or build with --compression lz4.'
      })
    }
    const text = magic.toString('latin1')
    if (text !== '070701' && text !== '070702') {
      throw new FledgeError(
        `not a newc cpio archive (found ${JSON.stringify(text)} at byte ${reader.offset}).`,
        { file, fix: 'pass an initramfs: newc cpio, plain or compressed with gzip, zstd or lz4 -l.' }
      )
    }
    for (;;) {
      const record = await readRecord(reader, file)
      if (!record) break
      yield record
    }
  }
}

async function readRecord(reader: ByteReader, file: string): Promise<ArchiveRecord | undefined> {
  const header = await reader.take(HEADER_SIZE)
  if (header.length < HEADER_SIZE) throw truncated(file, reader)
  const magic = header.toString('latin1', 0, 6)
  if (magic !== '070701' && magic !== '070702') {
    throw new FledgeError(`corrupt cpio header at byte ${reader.offset - HEADER_SIZE}.`, { file })
  }
  const field = (i: number) => parseInt(header.toString('latin1', 6 + i * 8, 14 + i * 8), 16)
  const mode = field(1)
  const size = field(6)
  const namesize = field(11)
  const nameBytes = await reader.take(namesize + pad4(HEADER_SIZE + namesize))
  if (nameBytes.length < namesize) throw truncated(file, reader)
  // Bytes that are not UTF-8 stay distinct (as lone surrogates) so listings can show them as \xNN.
  const name = decodeBytes(nameBytes.subarray(0, Math.max(0, namesize - 1)))
  if (name === TRAILER_NAME) return undefined
  const type = typeFromMode(mode)
  if (!type) throw new FledgeError(`unknown file type in mode ${mode.toString(8)} for ${showPath(name)}.`, { file })
  const record: ArchiveRecord = {
    path: name,
    type,
    mode: mode & 0o7777,
    uid: field(2),
    gid: field(3),
    size,
    mtime: field(5)
  }
  if (type === 'char' || type === 'block') record.rdev = { major: field(9), minor: field(10) }
  if (type === 'symlink') {
    const target = await reader.take(size)
    if (target.length < size) throw truncated(file, reader)
    record.target = decodeBytes(target).replace(/\0$/, '')
  } else if (size > 0) {
    const hash = createHash('sha256')
    let left = size
    while (left > 0) {
      const piece = await reader.take(Math.min(left, 1 << 20))
      if (piece.length === 0) throw truncated(file, reader)
      hash.update(piece)
      left -= piece.length
    }
    if (type === 'file') record.sha256 = hash.digest('hex')
  } else if (type === 'file') {
    record.sha256 = createHash('sha256').digest('hex')
  }
  await reader.take(pad4(size))
  return record
}

function truncated(file: string, reader: ByteReader): FledgeError {
  return new FledgeError(`archive ends in the middle of a record (byte ${reader.offset}).`, {
    file,
    fix: 'the file is truncated; build or download it again.'
  })
}

/** Pull-based reader over a byte stream: exact takes, peeks, and a handoff of the rest. */
class ByteReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private done = false
  private readonly iterator: AsyncIterator<Buffer>
  offset = 0

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]()
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const next = await this.iterator.next()
      if (next.done) this.done = true
      else if (next.value.length > 0) {
        this.chunks.push(next.value)
        this.buffered += next.value.length
      }
    }
  }

  async peek(n: number): Promise<Buffer> {
    await this.fill(n)
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks)
    this.chunks = all.length ? [all] : []
    return all.subarray(0, n)
  }

  async take(n: number): Promise<Buffer> {
    const out = await this.peek(n)
    const first = this.chunks[0]
    if (first) {
      const rest = first.subarray(out.length)
      this.chunks = rest.length ? [rest] : []
      this.buffered = rest.length
    }
    this.offset += out.length
    return out
  }

  async skipZeros(): Promise<void> {
    for (;;) {
      const head = await this.peek(512)
      let i = 0
      while (i < head.length && head[i] === 0) i++
      if (i === 0) return
      await this.take(i)
      if (i < head.length) return
    }
  }

  async *rest(): AsyncGenerator<Buffer> {
    for (const chunk of this.chunks) yield chunk
    this.chunks = []
    this.buffered = 0
    for (;;) {
      const next = await this.iterator.next()
      if (next.done) return
      yield next.value
    }
  }
}
