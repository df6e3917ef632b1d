import { FledgeError } from '../errors.js'
import { LZ4_LEGACY_BLOCK_SIZE, LZ4_LEGACY_MAGIC } from './lz4.js'
import { lz4Wasm, zstdWasm } from './wasm-codecs.js'

const OUTPUT_PIECE = 1 << 20

/** Every zstd frame in the input, one after another, decompressed (Debian's libzstd in WebAssembly). */
export async function* zstdDecompress(input: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const zstd = zstdWasm()
  if (zstd.fa_zstd_decompress_begin() !== 0) throw new Error('zstd: cannot create a decompression context')
  let inputCap = 0
  let inputPtr = 0
  const outputPtr = zstd.fa_alloc(OUTPUT_PIECE)
  try {
    for await (const chunk of input) {
      if (chunk.length > inputCap) {
        if (inputPtr) zstd.fa_free(inputPtr)
        inputCap = chunk.length
        inputPtr = zstd.fa_alloc(inputCap)
      }
      if (!inputPtr || !outputPtr) throw new Error('out of WebAssembly memory')
      new Uint8Array(zstd.memory.buffer, inputPtr, chunk.length).set(chunk)
      let offset = 0
      for (;;) {
        const written = zstd.fa_zstd_decompress(inputPtr + offset, chunk.length - offset, outputPtr, OUTPUT_PIECE)
        if (written < 0) throw corrupt('zstd', file)
        offset += zstd.fa_zstd_consumed()
        if (written > 0) yield Buffer.from(new Uint8Array(zstd.memory.buffer, outputPtr, written))
        // Input used up and the output not full: the decoder needs more input.
        if (offset >= chunk.length && written < OUTPUT_PIECE) break
      }
    }
  } finally {
    if (inputPtr) zstd.fa_free(inputPtr)
    zstd.fa_free(outputPtr)
  }
}

/**
 * The lz4 legacy format as the kernel reads it: the magic, then blocks, each
 * its compressed size (32-bit little-endian) and bytes, decompressing to at
 * most 8 MiB; the magic may appear again between blocks; the input ends after
 * a block (or at a zero size).
 */
export async function* lz4LegacyDecompress(input: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const lz4 = lz4Wasm()
  const maxCompressed = LZ4_LEGACY_BLOCK_SIZE + Math.floor(LZ4_LEGACY_BLOCK_SIZE / 255) + 16
  const inputPtr = lz4.fa_alloc(maxCompressed)
  const outputPtr = lz4.fa_alloc(LZ4_LEGACY_BLOCK_SIZE)
  if (!inputPtr || !outputPtr) throw new Error('out of WebAssembly memory')
  let pending: Buffer = Buffer.alloc(0)
  let need = 4
  let blockSize = -1 // -1: reading a size word
  try {
    const take = function* (): Generator<Buffer> {
      while (pending.length >= need) {
        const piece = pending.subarray(0, need)
        pending = pending.subarray(need)
        if (blockSize < 0) {
          const word = piece.readUInt32LE(0)
          if (word === LZ4_LEGACY_MAGIC) continue
          if (word === 0) {
            pending = Buffer.alloc(0)
            need = Infinity
            return
          }
          if (word > maxCompressed) throw corrupt('lz4', file)
          blockSize = word
          need = word
        } else {
          new Uint8Array(lz4.memory.buffer, inputPtr, piece.length).set(piece)
          const written = lz4.fa_lz4_decompress(inputPtr, piece.length, outputPtr, LZ4_LEGACY_BLOCK_SIZE)
          if (written < 0) throw corrupt('lz4', file)
          yield Buffer.from(new Uint8Array(lz4.memory.buffer, outputPtr, written))
          blockSize = -1
          need = 4
        }
      }
    }
    for await (const chunk of input) {
      if (need === Infinity) break
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      yield* take()
    }
    if (need !== Infinity && (pending.length > 0 || blockSize >= 0)) throw corrupt('lz4', file)
  } finally {
    lz4.fa_free(inputPtr)
    lz4.fa_free(outputPtr)
  }
}

function corrupt(format: string, file: string): FledgeError {
  return new FledgeError(`the ${format} data is corrupt or truncated.`, {
    file,
    fix: 'build or download the image again.'
  })
}
