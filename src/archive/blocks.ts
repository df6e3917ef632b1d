import { DeflatePool } from './deflate-pool.js'

export interface BlockPipelineOptions {
  /** Uncompressed bytes per block (the last one may be shorter). */
  blockSize: number
  pool: DeflatePool
  level: number
  /** Blocks queued at once; bounds memory. */
  maxInFlight: number
  /** Hand each block this many of the previous block's last bytes as its dictionary (deflate's 32 KiB window); 0: none. */
  dictionaryWindow?: number
}

/**
 * Cuts the input into fixed-size blocks, however it arrives, hands them to
 * the pool's workers in order and yields their output in the same order.
 * The last block is flagged; an empty input makes one empty last block.
 */
export async function* compressInBlocks(
  input: AsyncIterable<Buffer>,
  options: BlockPipelineOptions,
  onUncompressed?: (chunk: Buffer) => void
): AsyncGenerator<Buffer> {
  const { pool, blockSize, level } = options
  const window = options.dictionaryWindow ?? 0
  const inFlight: Promise<Buffer>[] = []
  let previousTail: Buffer | undefined
  let block = pool.takeBuffer(blockSize)
  let filled = 0
  let ready: Buffer | undefined // a full block held back until we know it is not the last

  const dispatch = (data: Buffer, last: boolean) => {
    const dictionary = previousTail
    // Copied before the block moves to its worker.
    if (window > 0) previousTail = Buffer.from(data.subarray(Math.max(0, data.length - window)))
    const job = pool.deflate({ data, dictionary, last, level })
    job.catch(() => {}) // observed when awaited below; avoids an unhandled rejection meanwhile
    inFlight.push(job)
  }

  for await (const chunk of input) {
    if (chunk.length === 0) continue
    onUncompressed?.(chunk)
    let offset = 0
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, blockSize - filled)
      chunk.copy(block, filled, offset, offset + n)
      filled += n
      offset += n
      if (filled === blockSize) {
        if (ready) dispatch(ready, false)
        ready = block
        block = pool.takeBuffer(blockSize)
        filled = 0
        while (inFlight.length >= options.maxInFlight) yield await (inFlight.shift() as Promise<Buffer>)
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
}
