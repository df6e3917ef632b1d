import type { EntryType } from '../image/entry.js'

/** newc ("070701") cpio records, as init/initramfs.c reads them. */
export const NEWC_MAGIC = '070701'
export const HEADER_SIZE = 110
export const TRAILER_NAME = 'TRAILER!!!'

export const TYPE_BITS: Record<EntryType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000
}

export function typeFromMode(mode: number): EntryType | undefined {
  const bits = mode & 0o170000
  for (const [type, value] of Object.entries(TYPE_BITS)) if (value === bits) return type as EntryType
  return undefined
}

export interface NewcRecord {
  ino: number
  mode: number
  uid: number
  gid: number
  nlink: number
  mtime: number
  filesize: number
  devmajor: number
  devminor: number
  rdevmajor: number
  rdevminor: number
  name: string
}

export function pad4(n: number): number {
  return (4 - (n % 4)) % 4
}

/** Header, name and the NUL padding that aligns the data that follows. */
export function encodeHeader(record: NewcRecord): Buffer {
  const name = Buffer.from(record.name, 'utf8')
  const namesize = name.length + 1
  const fields = [
    record.ino,
    record.mode,
    record.uid,
    record.gid,
    record.nlink,
    record.mtime,
    record.filesize,
    record.devmajor,
    record.devminor,
    record.rdevmajor,
    record.rdevminor,
    namesize,
    0
  ]
  const head = NEWC_MAGIC + fields.map((f) => hex8(f)).join('')
  const total = HEADER_SIZE + namesize + pad4(HEADER_SIZE + namesize)
  const out = Buffer.alloc(total)
  out.write(head, 0, 'latin1')
  name.copy(out, HEADER_SIZE)
  return out
}

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`cpio field out of range: ${value}`)
  }
  return value.toString(16).toUpperCase().padStart(8, '0')
}

export function trailerRecord(): Buffer {
  return encodeHeader({
    ino: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    filesize: 0,
    devmajor: 0,
    devminor: 0,
    rdevmajor: 0,
    rdevminor: 0,
    name: TRAILER_NAME
  })
}
