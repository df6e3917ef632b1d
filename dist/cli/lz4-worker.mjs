// Compresses lz4 legacy-format blocks for lz4.ts on a worker thread with
// Debian's lz4 1.9.4 compiled to WebAssembly (lz4.wasm, built by
// scripts/build-lz4-wasm.sh): the bytes of `lz4 -l -<level>`, on every Node and
// CPU. Each message is one independent block; the reply is its 4-byte size
// followed by the compressed bytes, and the input block goes back to be reused.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parentPort } from 'node:worker_threads'

const here = path.dirname(fileURLToPath(import.meta.url))
const lz4 = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path.join(here, 'lz4.wasm'))), {}).exports

let inputPtr = 0
let inputCap = 0
let outputPtr = 0
let outputCap = 0

function compressBlock(data, level) {
  // `lz4 -l` writes no block for empty input (only the magic).
  if (data.length === 0) return new Uint8Array(0)
  if (data.length > inputCap) {
    if (inputPtr) lz4.fa_free(inputPtr)
    if (outputPtr) lz4.fa_free(outputPtr)
    inputCap = data.length
    outputCap = lz4.fa_lz4_bound(inputCap)
    inputPtr = lz4.fa_alloc(inputCap)
    outputPtr = lz4.fa_alloc(outputCap)
    if (!inputPtr || !outputPtr) throw new Error('out of WebAssembly memory')
  }
  new Uint8Array(lz4.memory.buffer, inputPtr, data.length).set(data)
  const written = lz4.fa_lz4_compress(level, inputPtr, data.length, outputPtr, outputCap)
  if (written <= 0) throw new Error(`lz4 compression failed (${written})`)
  const out = new Uint8Array(4 + written)
  new DataView(out.buffer).setUint32(0, written, true)
  out.set(new Uint8Array(lz4.memory.buffer, outputPtr, written), 4)
  return out
}

parentPort.on('message', ({ id, data, level }) => {
  try {
    const out = compressBlock(data, level)
    parentPort.postMessage({ id, out, input: data }, [out.buffer, data.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.message ?? error) })
  }
})
