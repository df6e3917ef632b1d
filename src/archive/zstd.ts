import { compressInBlocks } from './blocks.js'
import { DeflatePool } from './deflate-pool.js'

/** Little-endian on disk: 28 b5 2f fd. */
export const ZSTD_MAGIC = 0xfd2fb528
/** How the input is handed to the worker; the bytes do not depend on it. */
const PIECE_SIZE = 1 << 20

export interface ZstdOptions {
  level: number
}

/**
 * One zstd frame, byte for byte as `zstd --single-thread -<level>` writes it
 * from a pipe (XXH64 checksum on, content size not recorded), compressed on one
 * worker thread while the main thread reads and hashes the files.
 *
 * Why one thread: the kernel's unzstd (lib/decompress_unzstd.c) decodes one
 * frame per call, and initramfs.c calls it again for the next frame only if
 * the previous one ended on a cpio record boundary ("junk at the end of
 * compressed archive" otherwise). Independent frames per fixed-size block, the
 * way lz4 and gzip go multi-core here, would not boot; frames cut at record
 * boundaries would put a large binary into one frame anyway. libzstd's own
 * multi-threading (one frame, jobs on pthreads) is not available in
 * WebAssembly without threads. The default level is chosen so that one core
 * keeps up with gzip on all of them (compression.ts).
 */
export async function* zstdFrame(
  input: AsyncIterable<Buffer>,
  options: ZstdOptions,
  onUncompressed?: (chunk: Buffer) => void
): AsyncGenerator<Buffer> {
  const pool = new DeflatePool(1, new URL('./zstd-worker.mjs', import.meta.url))
  try {
    yield* compressInBlocks(input, { blockSize: PIECE_SIZE, pool, level: options.level, maxInFlight: 4 }, onUncompressed)
  } finally {
    await pool.close()
  }
}
