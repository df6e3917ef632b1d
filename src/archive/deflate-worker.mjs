// Deflates blocks for gzip.ts on a worker thread, with pako: a pure-JavaScript
// port of zlib whose output equals stock zlib's. Its bytes are fixed by our
// lockfile, not by the zlib that happens to be compiled into the running Node
// (Node bundles Chromium's zlib, whose output differs between releases and is
// ~1.8% larger than stock zlib at the same level).
import { parentPort } from 'node:worker_threads'
import pako from 'pako'

const Z_SYNC_FLUSH = 2
const Z_FINISH = 4

parentPort.on('message', ({ id, data, dictionary, last, level }) => {
  const deflate = new pako.Deflate({ level, raw: true, ...(dictionary ? { dictionary } : {}) })
  const chunks = []
  deflate.onData = (chunk) => chunks.push(chunk)
  deflate.onEnd = () => {}
  deflate.push(data, last ? Z_FINISH : Z_SYNC_FLUSH)
  if (deflate.err) {
    parentPort.postMessage({ id, error: `deflate failed: ${deflate.msg}` })
    return
  }
  let size = 0
  for (const chunk of chunks) size += chunk.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
