/**
 * A strict streaming reader for the tar archives inside container image layers:
 * ustar, pax (per-file and global extended headers) and GNU long names. Every
 * header field is checked; anything this reader cannot represent exactly
 * (sparse files, multi-volume parts, malformed numbers or pax records) is
 * refused with the entry it was found at, never guessed.
 */

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo'

export interface TarEntry {
  /** As stored (after pax/GNU long names), not normalized. */
  name: string
  type: TarEntryType
  mode: number
  uid: number
  gid: number
  size: number
  /** Hard and symbolic links. */
  linkname: string
  devmajor: number
  devminor: number
  /** Extended attributes from pax SCHILY.xattr.* records (not representable in newc). */
  xattrs: string[]
}

export class TarFormatError extends Error {}

const BLOCK = 512

/** Pulls exact byte counts out of a stream of chunks. */
export class ChunkReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private done = false
  /** Bytes handed out so far: the offset of the next byte, for messages. */
  offset = 0

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(wanted: number): Promise<void> {
    while (this.buffered < wanted && !this.done) {
      const next = await this.source.next()
      if (next.done) {
        this.done = true
        break
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
      if (chunk.length === 0) continue
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n)
    const take = Math.min(n, this.buffered)
    const out = Buffer.allocUnsafe(take)
    let copied = 0
    while (copied < take) {
      const head = this.chunks[0] as Buffer
      const part = Math.min(head.length, take - copied)
      head.copy(out, copied, 0, part)
      copied += part
      if (part === head.length) this.chunks.shift()
      else this.chunks[0] = head.subarray(part)
    }
    this.buffered -= take
    this.offset += take
    return out
  }

  /** `n` bytes as a sequence of chunks, without gathering them; throws when the stream ends first. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (this.buffered === 0) await this.fill(1)
      if (this.buffered === 0) throw new TarFormatError(`the archive ends inside a file's data (${left} bytes missing)`)
      const head = this.chunks[0] as Buffer
      const part = Math.min(head.length, left)
      if (part === head.length) this.chunks.shift()
      else this.chunks[0] = head.subarray(part)
      this.buffered -= part
      this.offset += part
      left -= part
      yield head.subarray(0, part)
    }
  }

  async skip(n: number): Promise<void> {
    for await (const chunk of this.stream(n)) void chunk
  }

  /** True when nothing but zero bytes remain. */
  async restIsZero(): Promise<boolean> {
    for (;;) {
      const block = await this.read(64 * 1024)
      if (block.length === 0) return true
      if (block.some((byte) => byte !== 0)) return false
    }
  }
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo'
}

const UNSUPPORTED: Record<string, string> = {
  S: 'a GNU sparse file',
  M: 'a GNU multi-volume continuation',
  V: 'a GNU volume label',
  N: 'an old GNU long-name record',
  D: 'a GNU dump directory'
}

/** Largest size/uid/gid accepted: beyond Number.MAX_SAFE_INTEGER a number is not exact. */
const MAX_NUMBER = Number.MAX_SAFE_INTEGER
/** Longest pax or GNU long-name record accepted (Linux paths end at 4096). */
const MAX_META_SIZE = 1024 * 1024

/**
 * Reads entries one at a time; the caller must consume (or skip) each file's data
 * through `data()` before asking for the next entry.
 */
export class TarReader {
  private global: Map<string, string> = new Map()
  private pendingData = 0
  private ended = false

  constructor(private readonly input: ChunkReader) {}

  /** The next entry, or undefined at the end-of-archive marker. */
  async next(): Promise<TarEntry | undefined> {
    if (this.pendingData > 0) await this.skipData()
    if (this.ended) return undefined
    let pax: Map<string, string> | undefined
    let longName: string | undefined
    let longLink: string | undefined
    for (;;) {
      const at = this.input.offset
      const header = await this.input.read(BLOCK)
      if (header.length === 0) throw new TarFormatError(`the archive ends at byte ${at} without its end-of-archive marker (a truncated layer)`)
      if (header.length < BLOCK) throw new TarFormatError(`the archive ends inside a header at byte ${at}`)
      if (isZero(header)) {
        if (pax || longName !== undefined || longLink !== undefined) {
          throw new TarFormatError(`an extended header at byte ${at - BLOCK} is followed by the end of the archive instead of its entry`)
        }
        this.ended = true
        // The second zero block and any padding must be zeros too: data after the end would be ignored silently by others.
        if (!(await this.input.restIsZero())) throw new TarFormatError(`non-zero bytes follow the end-of-archive marker at byte ${at}`)
        return undefined
      }
      const fields = parseHeader(header, at)
      const size = fields.size
      const padded = Math.ceil(size / BLOCK) * BLOCK
      if (fields.typeflag === 'x' || fields.typeflag === 'g' || fields.typeflag === 'L' || fields.typeflag === 'K') {
        if (size > MAX_META_SIZE) throw new TarFormatError(`the extended header at byte ${at} claims ${size} bytes`)
        const body = await this.input.read(padded)
        if (body.length < padded) throw new TarFormatError(`the archive ends inside the extended header at byte ${at}`)
        const data = body.subarray(0, size)
        if (fields.typeflag === 'x') pax = parsePax(data, at, pax)
        else if (fields.typeflag === 'g') this.global = parsePax(data, at, this.global)
        else if (fields.typeflag === 'L') longName = cString(data, at, 'GNU long name')
        else longLink = cString(data, at, 'GNU long link name')
        continue
      }
      const unsupported = UNSUPPORTED[fields.typeflag]
      const type = TYPES[fields.typeflag]
      if (unsupported || !type) {
        throw new TarFormatError(
          `the entry ${JSON.stringify(fields.name)} at byte ${at} is ${unsupported ?? `of unknown type ${JSON.stringify(fields.typeflag)}`}, which a container layer cannot use`
        )
      }
      const records = new Map([...this.global, ...(pax ?? [])])
      const entry: TarEntry = {
        name: records.get('path') ?? longName ?? fields.name,
        type,
        mode: fields.mode,
        uid: paxNumber(records, 'uid', at) ?? fields.uid,
        gid: paxNumber(records, 'gid', at) ?? fields.gid,
        size: paxNumber(records, 'size', at) ?? size,
        linkname: records.get('linkpath') ?? longLink ?? fields.linkname,
        devmajor: fields.devmajor,
        devminor: fields.devminor,
        xattrs: [...records.keys()].filter((key) => key.startsWith('SCHILY.xattr.')).map((key) => key.slice(13))
      }
      if ([...records.keys()].some((key) => key.startsWith('GNU.sparse.'))) {
        throw new TarFormatError(`the entry ${JSON.stringify(entry.name)} at byte ${at} is a pax sparse file, which a container layer cannot use`)
      }
      if (entry.name === '') throw new TarFormatError(`the entry at byte ${at} has an empty name`)
      if (entry.type !== 'file' && entry.type !== 'hardlink' && entry.size !== 0) {
        throw new TarFormatError(`the ${entry.type} ${JSON.stringify(entry.name)} at byte ${at} claims ${entry.size} bytes of data`)
      }
      if ((entry.type === 'hardlink' || entry.type === 'symlink') && entry.linkname === '') {
        throw new TarFormatError(`the ${entry.type} ${JSON.stringify(entry.name)} at byte ${at} has no link target`)
      }
      if (entry.name.includes('\0') || entry.linkname.includes('\0')) {
        throw new TarFormatError(`the entry at byte ${at} has a NUL byte in its name`)
      }
      this.pendingData = entry.size
      return entry
    }
  }

  /** The current entry's data, as chunks. */
  async *data(): AsyncGenerator<Buffer> {
    const size = this.pendingData
    this.pendingData = 0
    yield* this.input.stream(size)
    await this.input.skip(padding(size))
  }

  private async skipData(): Promise<void> {
    const size = this.pendingData
    this.pendingData = 0
    await this.input.skip(size + padding(size))
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK
}

export interface HeaderFields {
  name: string
  mode: number
  uid: number
  gid: number
  size: number
  typeflag: string
  linkname: string
  devmajor: number
  devminor: number
}

/** One header block, every field checked (also used by archives.ts to index docker/oci archives). */
export function parseHeader(block: Buffer, at: number): HeaderFields {
  const magic = block.toString('latin1', 257, 263)
  const version = block.toString('latin1', 263, 265)
  const ustar = magic === 'ustar\0' && version === '00'
  const gnu = magic === 'ustar ' && version === ' \0'
  if (!ustar && !gnu) {
    throw new TarFormatError(`the header at byte ${at} is not a ustar, pax or GNU tar header (magic ${JSON.stringify(magic + version)})`)
  }
  const stored = octal(block, 148, 8, at, 'checksum')
  let unsigned = 8 * 0x20
  let signed = 8 * 0x20
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue
    const byte = block[i] as number
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`the header at byte ${at} has a wrong checksum (stored ${stored}, computed ${unsigned}): the layer is damaged`)
  }
  const typeflag = String.fromCharCode(block[156] as number)
  const baseName = cString(block.subarray(0, 100), at, 'name')
  // GNU headers use the prefix area for access and change times.
  const prefix = ustar ? cString(block.subarray(345, 500), at, 'name prefix') : ''
  const mode = numeric(block, 100, 8, at, 'mode')
  if (mode > 0o7777 && (mode & ~0o177777) !== 0) {
    throw new TarFormatError(`the header at byte ${at} has an invalid mode ${mode.toString(8)}`)
  }
  return {
    name: prefix ? `${prefix}/${baseName}` : baseName,
    // Some writers store the file-type bits in the mode field too; the typeflag decides the type.
    mode: mode & 0o7777,
    uid: numeric(block, 108, 8, at, 'uid'),
    gid: numeric(block, 116, 8, at, 'gid'),
    size: numeric(block, 124, 12, at, 'size'),
    typeflag,
    linkname: cString(block.subarray(157, 257), at, 'link name'),
    devmajor: typeflag === '3' || typeflag === '4' ? numeric(block, 329, 8, at, 'device major') : 0,
    devminor: typeflag === '3' || typeflag === '4' ? numeric(block, 337, 8, at, 'device minor') : 0
  }
}

/** An octal field (spaces/NULs around the digits) or GNU base-256 (high bit set). */
function numeric(block: Buffer, offset: number, length: number, at: number, what: string): number {
  const first = block[offset] as number
  if (first & 0x80) {
    if (first === 0xff) throw new TarFormatError(`the header at byte ${at} has a negative ${what}`)
    let value = first & 0x7f
    for (let i = 1; i < length; i++) {
      value = value * 256 + (block[offset + i] as number)
      if (value > MAX_NUMBER) throw new TarFormatError(`the header at byte ${at} has a ${what} too large to use`)
    }
    return value
  }
  return octal(block, offset, length, at, what)
}

function octal(block: Buffer, offset: number, length: number, at: number, what: string): number {
  const text = block.toString('latin1', offset, offset + length)
  const match = /^[ \0]*([0-7]*)[ \0]*$/.exec(text)
  if (!match) throw new TarFormatError(`the header at byte ${at} has a malformed ${what} field ${JSON.stringify(text)}`)
  const digits = match[1] as string
  if (digits === '') return 0
  const value = parseInt(digits, 8)
  if (value > MAX_NUMBER) throw new TarFormatError(`the header at byte ${at} has a ${what} too large to use`)
  return value
}

/** A NUL-terminated (or full-width) UTF-8 string; invalid UTF-8 is refused. */
export function cString(bytes: Buffer, at: number, what: string): string {
  const end = bytes.indexOf(0)
  const raw = end === -1 ? bytes : bytes.subarray(0, end)
  return utf8(raw, at, what)
}

function utf8(raw: Buffer, at: number, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw)
  } catch {
    throw new TarFormatError(`the ${what} at byte ${at} is not valid UTF-8`)
  }
}

/** "<length> <key>=<value>\n" records; every one must be well formed. */
export function parsePax(data: Buffer, at: number, into?: Map<string, string>): Map<string, string> {
  const records = new Map(into ?? [])
  let position = 0
  while (position < data.length) {
    // Some writers pad the record area with NULs.
    if (data.subarray(position).every((byte) => byte === 0)) break
    const space = data.indexOf(0x20, position)
    const lengthText = space === -1 ? '' : data.toString('latin1', position, space)
    if (!/^[1-9][0-9]{0,7}$/.test(lengthText)) throw new TarFormatError(`the pax header at byte ${at} has a malformed record length`)
    const length = Number(lengthText)
    const end = position + length
    if (end > data.length || data[end - 1] !== 0x0a) throw new TarFormatError(`the pax header at byte ${at} has a record that does not end where its length says`)
    const record = utf8(data.subarray(space + 1, end - 1), at, 'pax record')
    const equals = record.indexOf('=')
    if (equals <= 0) throw new TarFormatError(`the pax header at byte ${at} has a record without key=value`)
    const key = record.slice(0, equals)
    const value = record.slice(equals + 1)
    // An empty value deletes the key (POSIX pax).
    if (value === '') records.delete(key)
    else records.set(key, value)
    position = end
  }
  return records
}

function paxNumber(records: Map<string, string>, key: string, at: number): number | undefined {
  const value = records.get(key)
  if (value === undefined) return undefined
  if (!/^[0-9]{1,16}$/.test(value) || Number(value) > MAX_NUMBER) {
    throw new TarFormatError(`the pax header before byte ${at} has an invalid ${key} ${JSON.stringify(value)}`)
  }
  return Number(value)
}

export function isZero(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false
  return true
}
