import { crc32 } from './crc32.js'
import { compressInBlocks } from './blocks.js'
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
  let crc = 0
  let total = 0
  try {
    yield gzipHeader(options.level)
    yield* compressInBlocks(
      input,
      // Two blocks queued per worker keep them busy while the main thread reads.
      { pool, blockSize: options.blockSize, level: options.level, maxInFlight: pool.size * 2, dictionaryWindow: WINDOW },
      (chunk) => {
        onUncompressed?.(chunk)
        crc = crc32(chunk, crc)
        total += chunk.length
      }
    )
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
