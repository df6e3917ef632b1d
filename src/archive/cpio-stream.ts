import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { FledgeError } from '../errors.js'
import { fileError, isFileSystemError } from '../user-files.js'
import { type Entry } from '../image/entry.js'
import { encodeHeader, pad4, trailerRecord, TYPE_BITS } from './newc.js'

const READ_CHUNK = 1 << 20

export interface CpioStreamOptions {
  mtime: number
  /** Called with each regular file's sha256 once its bytes have been streamed. */
  onFileDigest?: (entry: Entry, sha256: string) => void
}

/**
 * The archive as a stream of buffers: entries must already be sorted.
 * Inodes are 1..N in that order, owners and devices fixed, so nothing of the
 * build host leaks in. File bytes are read once, straight from their source.
 */
export async function* cpioStream(
  entries: readonly Entry[],
  options: CpioStreamOptions
): AsyncGenerator<Buffer> {
  let ino = 0
  for (const entry of entries) {
    ino++
    const data = entry.type === 'symlink' ? Buffer.from(entry.target ?? '', 'utf8') : undefined
    const filesize =
      entry.type === 'file' ? fileSize(entry) : entry.type === 'symlink' ? (data as Buffer).length : 0
    yield encodeHeader({
      ino,
      mode: TYPE_BITS[entry.type] | (entry.mode & 0o7777),
      uid: entry.uid,
      gid: entry.gid,
      nlink: entry.type === 'dir' ? 2 : 1,
      mtime: options.mtime,
      filesize,
      devmajor: 0,
      devminor: 0,
      rdevmajor: entry.rdev?.major ?? 0,
      rdevminor: entry.rdev?.minor ?? 0,
      name: entry.path
    })
    if (data) {
      yield data
    } else if (entry.type === 'file') {
      yield* fileBytes(entry, filesize, options.onFileDigest)
    }
    const padding = pad4(filesize)
    if (padding) yield Buffer.alloc(padding)
  }
  const trailer = trailerRecord()
  yield trailer
}

function fileSize(entry: Entry): number {
  const source = entry.source
  if (!source) return 0
  return source.kind === 'path' ? source.size : source.data.byteLength
}

async function* fileBytes(
  entry: Entry,
  expected: number,
  onDigest: CpioStreamOptions['onFileDigest']
): AsyncGenerator<Buffer> {
  const source = entry.source
  if (!source) return
  const hash = onDigest ? createHash('sha256') : undefined
  if (source.kind === 'bytes') {
    const bytes = Buffer.from(source.data.buffer, source.data.byteOffset, source.data.byteLength)
    hash?.update(bytes)
    yield bytes
  } else {
    let seen = 0
    try {
      // A read stream allocates its whole highWaterMark for every read: sized to the file
      // (+1 to see one that grew), 20,000 small files no longer churn through 20 GB of buffers.
      const highWaterMark = Math.min(READ_CHUNK, expected + 1)
      for await (const chunk of createReadStream(source.path, { highWaterMark })) {
        const buffer = chunk as Buffer
        seen += buffer.length
        if (seen > expected) break
        hash?.update(buffer)
        yield buffer
      }
    } catch (error) {
      if (!isFileSystemError(error)) throw error
      throw fileError(error, source.path, { what: `the source of /${entry.path} (${entry.origin})`, verb: 'read' })
    }
    if (seen !== expected) {
      throw new FledgeError(
        `${source.path} changed while the image was being written (${expected} bytes expected, ${seen} read).`,
        { fix: 'do not modify payload files during the build, then build again.' }
      )
    }
  }
  if (hash && onDigest) onDigest(entry, hash.digest('hex'))
}
