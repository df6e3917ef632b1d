import { compressInBlocks } from './blocks.js'
import { DeflatePool } from './deflate-pool.js'

/** The legacy format's magic, little-endian on disk: 02 21 4c 18. */
export const LZ4_LEGACY_MAGIC = 0x184c2102
/**
 * Fixed by the format: the kernel (lib/decompress_unlz4.c) and `lz4 -d`
 * decompress every block into an 8 MiB buffer, and `lz4 -l` cuts the input
 * into blocks of exactly this size.
 */
export const LZ4_LEGACY_BLOCK_SIZE = 8 << 20

export interface Lz4Options {
  level: number
  /** Worker threads compressing at once (never changes the bytes). */
  parallelism: number
}

/**
 * The lz4 legacy frame format, the only lz4 format the kernel's initramfs
 * unpacker reads, byte for byte as `lz4 -l -<level>` writes it: the magic,
 * then for each 8 MiB block its compressed size (32-bit little-endian) and
 * bytes, with no end mark and no checksum. The blocks are independent, so they
 * are compressed on every core.
 */
export async function* lz4Legacy(
  input: AsyncIterable<Buffer>,
  options: Lz4Options,
  onUncompressed?: (chunk: Buffer) => void
): AsyncGenerator<Buffer> {
  const pool = new DeflatePool(options.parallelism > 0 ? options.parallelism : undefined, new URL('./lz4-worker.mjs', import.meta.url))
  try {
    const magic = Buffer.alloc(4)
    magic.writeUInt32LE(LZ4_LEGACY_MAGIC, 0)
    yield magic
    const blocks = compressInBlocks(
      input,
      { blockSize: LZ4_LEGACY_BLOCK_SIZE, pool, level: options.level, maxInFlight: pool.size + 1 },
      onUncompressed
    )
    for await (const block of blocks) if (block.length > 0) yield block
  } finally {
    await pool.close()
  }
}
