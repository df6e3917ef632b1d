import { crc32 } from './crc32.js'
import { DeflatePool } from './deflate-pool.js'

export interface GzipOptions {
  level: number
  /** Uncompressed bytes per independently compressed block. Part of the output's identity. */
  blockSize: number
  /** Worker threads deflating at once (never changes the bytes). */
  parallelism: number
}

/**
 * Level 7 of stock zlib: 0.2% larger than GNU `gzip -9` on real binaries, at
 * about half its CPU time, spread over every core (bench/README.md has the
 * figures and the alternatives measured).
 */
export const DEFAULT_GZIP: GzipOptions = { level: 7, blockSize: 1 << 20, parallelism: 0 }
const WINDOW = 32 * 1024

/**
 * One gzip member made the way pigz makes it: the input is cut into fixed-size
 * blocks, each deflated on a worker thread with the previous 32 KiB as its
 * dictionary and ended with a sync flush, the last one finished. The bytes
 * depend only on the input, the level and the block size, never on timing,
 * the number of workers, the Node version or the CPU. The kernel inflates it
 * as one stream (it ignores the flush points), and so does every gzip reader.
 */
export async function* gzipBlocks(
  input: AsyncIterable<Buffer>,
  options: GzipOptions = DEFAULT_GZIP,
  onUncompressed?: (chunk: Buffer) => void
): AsyncGenerator<Buffer> {
  const pool = new DeflatePool(options.parallelism > 0 ? options.parallelism : undefined)
  // Two blocks queued per worker keep them busy while the main thread reads.
  const maxInFlight = pool.size * 2
  const inFlight: Promise<Buffer>[] = []
  try {
    yield gzipHeader(options.level)
    let crc = 0
    let total = 0
    let block = pool.takeBuffer(options.blockSize)
    let filled = 0
    let previousTail: Buffer | undefined
    let ready: Buffer | undefined // a full block held back until we know it is not the last

    const dispatch = (data: Buffer, last: boolean) => {
      const dictionary = previousTail
      // Taken before the block moves to its worker.
      previousTail = Buffer.from(data.subarray(Math.max(0, data.length - WINDOW)))
      const job = pool.deflate({ data, dictionary, last, level: options.level })
      job.catch(() => {}) // observed when awaited below; avoids an unhandled rejection meanwhile
      inFlight.push(job)
    }

    for await (const chunk of input) {
      if (chunk.length === 0) continue
      onUncompressed?.(chunk)
      crc = crc32(chunk, crc)
      total += chunk.length
      let offset = 0
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, options.blockSize - filled)
        chunk.copy(block, filled, offset, offset + n)
        filled += n
        offset += n
        if (filled === options.blockSize) {
          if (ready) dispatch(ready, false)
          ready = block
          block = pool.takeBuffer(options.blockSize)
          filled = 0
          while (inFlight.length >= maxInFlight) yield await (inFlight.shift() as Promise<Buffer>)
        }
      }
    }
    if (filled > 0) {
      if (ready) dispatch(ready, false)
      dispatch(block.subarray(0, filled), true)
    } else {
      dispatch(ready ?? Buffer.alloc(0), true)
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Buffer>)
    const trailer = Buffer.alloc(8)
    trailer.writeUInt32LE(crc >>> 0, 0)
    trailer.writeUInt32LE(total % 0x100000000, 4)
    yield trailer
  } finally {
    await pool.close()
  }
}

/** MTIME 0, no name, no extra fields (the kernel's reader rejects FEXTRA), OS 3 (Unix). */
export function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03])
}
