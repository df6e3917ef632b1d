import { effectiveLevel, type Compression } from './compression.js'
import { DEFAULT_GZIP, gzipBlocks, type GzipOptions } from './gzip.js'
import { lz4Legacy } from './lz4.js'
import { zstdFrame } from './zstd.js'

export interface CompressOptions {
  /** gzip's block size (part of its output's identity) and parallelism; tests and bench. */
  gzip?: Partial<GzipOptions>
  /** Worker threads for the formats that use several (never changes the bytes). */
  parallelism?: number
}

/** The cpio stream compressed as asked; `onUncompressed` sees every input byte. */
export function compressStream(
  input: AsyncIterable<Buffer>,
  compression: Compression,
  options: CompressOptions = {},
  onUncompressed?: (chunk: Buffer) => void
): AsyncGenerator<Buffer> {
  const level = effectiveLevel(compression) as number
  switch (compression.format) {
    case 'gzip':
      return gzipBlocks(
        input,
        { ...DEFAULT_GZIP, level, ...(options.parallelism ? { parallelism: options.parallelism } : {}), ...options.gzip },
        onUncompressed
      )
    case 'lz4':
      return lz4Legacy(input, { level, parallelism: options.parallelism ?? 0 }, onUncompressed)
    case 'zstd':
      return zstdFrame(input, { level }, onUncompressed)
    case 'none':
      return passThrough(input, onUncompressed)
  }
}

async function* passThrough(input: AsyncIterable<Buffer>, onUncompressed?: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    onUncompressed?.(chunk)
    yield chunk
  }
}
