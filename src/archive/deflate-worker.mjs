// Deflates blocks for gzip.ts on a worker thread, with pako: a pure-JavaScript
// port of zlib whose output equals stock zlib's. Its bytes are fixed by our
// lockfile, not by the zlib compiled into the running Node (Node bundles
// Chromium's zlib, whose output differs between releases and is ~1.8% larger
// than stock zlib at the same level).
//
// One zlib stream per worker is reset for every block (no per-block state
// allocations), and the input block is sent back to the main thread to be
// filled again: memory stays flat however large the image is.
import { parentPort } from 'node:worker_threads'
import zlib from 'pako/lib/zlib/deflate.js'
import ZStream from 'pako/lib/zlib/zstream.js'

const Z_OK = 0
const Z_STREAM_END = 1
const Z_SYNC_FLUSH = 2
const Z_FINISH = 4
const Z_DEFLATED = 8
const RAW_WINDOW_BITS = -15
const MEM_LEVEL = 8
const Z_DEFAULT_STRATEGY = 0

let stream
let streamLevel
let output = new Uint8Array(0)

function streamFor(level) {
  if (stream && streamLevel === level) {
    zlib.deflateReset(stream)
    return stream
  }
  stream = new ZStream()
  const status = zlib.deflateInit2(stream, level, Z_DEFLATED, RAW_WINDOW_BITS, MEM_LEVEL, Z_DEFAULT_STRATEGY)
  if (status !== Z_OK) throw new Error(`deflateInit2 failed (${status})`)
  streamLevel = level
  return stream
}

function deflateBlock(data, dictionary, last, level) {
  const strm = streamFor(level)
  if (dictionary) {
    const status = zlib.deflateSetDictionary(strm, dictionary)
    if (status !== Z_OK) throw new Error(`deflateSetDictionary failed (${status})`)
  }
  // Room for the worst case: stored blocks plus the flush marker.
  const bound = data.length + (data.length >> 12) + 64
  if (output.length < bound) output = new Uint8Array(bound)
  strm.input = data
  strm.next_in = 0
  strm.avail_in = data.length
  strm.output = output
  strm.next_out = 0
  strm.avail_out = output.length
  const status = zlib.deflate(strm, last ? Z_FINISH : Z_SYNC_FLUSH)
  if (last ? status !== Z_STREAM_END : status !== Z_OK || strm.avail_in !== 0) {
    throw new Error(`deflate failed (${status}, ${strm.avail_in} bytes left)`)
  }
  strm.input = null
  return output.slice(0, strm.next_out)
}

parentPort.on('message', ({ id, data, dictionary, last, level }) => {
  try {
    const out = deflateBlock(data, dictionary, last, level)
    parentPort.postMessage({ id, out, input: data }, [out.buffer, data.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.message ?? error) })
  }
})
