// One compression run in a fresh process, the way writeArchive drives the gzip
// stage: a file read in 1 MiB chunks → gzipBlocks → sha256 → file writes.
//   node gzip-worker.mjs GZIP_MODULE INPUT OUTPUT '{"mode":"blocks","level":9,...}'
// Prints one JSON line: ms (pipeline only, no process start), size, sha256, maxRssKiB.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as zlib from 'node:zlib'
import { pathToFileURL } from 'node:url'

const [moduleFile, input, output, json] = process.argv.slice(2)
const options = JSON.parse(json)
const { gzipBlocks, gzipHeader } = await import(pathToFileURL(moduleFile).href)

async function* oneStream(source, level) {
  // Node's zlib as one deflate stream (no blocks): what chunking costs in size.
  yield gzipHeader(level)
  const deflate = zlib.createDeflateRaw({ level })
  let crc = 0
  let total = 0
  const feed = (async () => {
    for await (const chunk of source) {
      crc = zlib.crc32(chunk, crc)
      total += chunk.length
      if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r))
    }
    deflate.end()
  })()
  for await (const out of deflate) yield out
  await feed
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc >>> 0, 0)
  trailer.writeUInt32LE(total % 0x100000000, 4)
  yield trailer
}

/**
 * Node's zlib, pigz-style: blocks deflated on libuv's pool with the previous
 * 32 KiB as dictionary, sync-flushed (gzip.ts up to commit 2f481a3, kept here
 * as the comparison for whatever gzip.ts does now).
 */
async function* nodeBlocks(source, { level, blockSize, parallelism }) {
  const deflateRaw = (data, opts) =>
    new Promise((resolve, reject) =>
      zlib.deflateRaw(data, opts, (e, out) => (e ? reject(e) : resolve(out)))
    )
  yield gzipHeader(level)
  const inFlight = []
  let crc = 0
  let total = 0
  let block = Buffer.allocUnsafe(blockSize)
  let filled = 0
  let tail
  let ready
  const dispatch = (data, last) => {
    const opts = {
      level,
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH
    }
    if (tail) opts.dictionary = tail
    inFlight.push(deflateRaw(data, opts))
    tail = Buffer.from(data.subarray(Math.max(0, data.length - 32768)))
  }
  for await (const chunk of source) {
    crc = zlib.crc32(chunk, crc)
    total += chunk.length
    let offset = 0
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, blockSize - filled)
      chunk.copy(block, filled, offset, offset + n)
      filled += n
      offset += n
      if (filled === blockSize) {
        if (ready) dispatch(ready, false)
        ready = block
        block = Buffer.allocUnsafe(blockSize)
        filled = 0
        while (inFlight.length >= parallelism) yield await inFlight.shift()
      }
    }
  }
  if (filled > 0) {
    if (ready) dispatch(ready, false)
    dispatch(block.subarray(0, filled), true)
  } else {
    dispatch(ready ?? Buffer.alloc(0), true)
  }
  while (inFlight.length > 0) yield await inFlight.shift()
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc >>> 0, 0)
  trailer.writeUInt32LE(total % 0x100000000, 4)
  yield trailer
}

const start = performance.now()
const source = createReadStream(input, { highWaterMark: 1 << 20 })
const stream =
  options.mode === 'stream'
    ? oneStream(source, options.level)
    : options.mode === 'node-blocks'
      ? nodeBlocks(source, options)
      : gzipBlocks(source, {
          level: options.level,
          blockSize: options.blockSize,
          parallelism: options.parallelism
        })
const hash = createHash('sha256')
let size = 0
const handle = await fs.open(output, 'w')
for await (const chunk of stream) {
  hash.update(chunk)
  size += chunk.length
  await handle.write(chunk)
}
await handle.close()
const ms = performance.now() - start
process.stdout.write(
  `${JSON.stringify({ ms, size, sha256: hash.digest('hex'), maxRssKiB: process.resourceUsage().maxRSS, zlib: process.versions.zlib, node: process.version })}\n`
)
