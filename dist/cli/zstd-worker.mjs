// Compresses one zstd frame for zstd.ts on a worker thread with Debian's
// libzstd 1.5.4 compiled to WebAssembly (zstd.wasm, built by
// scripts/build-zstd-wasm.sh): the bytes of `zstd --single-thread -<level>`
// reading a pipe, on every Node and CPU. Messages are consecutive pieces of
// one stream, in order; `last` ends the frame and the next message starts a
// new one. The input piece goes back to be reused.
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parentPort } from 'node:worker_threads'

const here = path.dirname(fileURLToPath(import.meta.url))
const zstd = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path.join(here, 'zstd.wasm'))), {}).exports

let inputPtr = 0
let inputCap = 0
let outputPtr = 0
let outputCap = 0
let inFrame = false

function compressPiece(data, last, level) {
  if (!inFrame) {
    const status = zstd.fa_zstd_begin(level)
    if (status !== 0) throw new Error(`zstd could not start a frame at level ${level} (${status})`)
    inFrame = true
  }
  if (data.length > inputCap || !inputPtr) {
    if (inputPtr) zstd.fa_free(inputPtr)
    if (outputPtr) zstd.fa_free(outputPtr)
    inputCap = Math.max(1, data.length)
    outputCap = zstd.fa_zstd_out_bound(inputCap)
    inputPtr = zstd.fa_alloc(inputCap)
    outputPtr = zstd.fa_alloc(outputCap)
    if (!inputPtr || !outputPtr) throw new Error('out of WebAssembly memory')
  }
  new Uint8Array(zstd.memory.buffer, inputPtr, data.length).set(data)
  const written = zstd.fa_zstd_compress(inputPtr, data.length, last ? 1 : 0, outputPtr, outputCap)
  if (written < 0) throw new Error(`zstd compression failed (${written})`)
  if (last) inFrame = false
  return new Uint8Array(zstd.memory.buffer, outputPtr, written).slice()
}

parentPort.on('message', ({ id, data, last, level }) => {
  try {
    const out = compressPiece(data, last, level)
    parentPort.postMessage({ id, out, input: data }, [out.buffer, data.buffer])
  } catch (error) {
    inFrame = false
    parentPort.postMessage({ id, error: String(error?.message ?? error) })
  }
})
