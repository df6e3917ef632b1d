import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
var __webpack_exports__ = {};

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: external "node:url"
const external_node_url_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");
;// CONCATENATED MODULE: external "node:worker_threads"
const external_node_worker_threads_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");
;// CONCATENATED MODULE: ./src/archive/deflate-worker.mjs
// Deflates blocks for gzip.ts on a worker thread with stock zlib compiled to
// WebAssembly (zlib.wasm, built by scripts/build-zlib-wasm.sh from Debian's
// zlib 1.2.13 and c/zlib-deflate.c). Not the zlib compiled into Node: Node
// bundles Chromium's fork, whose bytes differ between Node releases and are
// ~1.8% larger than stock zlib's at the same level. WebAssembly runs the same
// on every machine, so the bytes are pinned by the committed zlib.wasm.
//
// One zlib stream per worker is reset for every block, and the input block is
// sent back to the main thread to be filled again: memory stays flat however
// large the image is.





const here = external_node_path_namespaceObject.dirname((0,external_node_url_namespaceObject.fileURLToPath)(import.meta.url))
const deflate_worker_module = new WebAssembly.Module((0,external_node_fs_namespaceObject.readFileSync)(external_node_path_namespaceObject.join(here, 'zlib.wasm')))
const zlib = new WebAssembly.Instance(deflate_worker_module, {}).exports

const DICTIONARY_MAX = 32 * 1024
let inputPtr = 0
let inputCap = 0
let outputPtr = 0
let outputCap = 0
const dictionaryPtr = zlib.fa_alloc(DICTIONARY_MAX)

function reserve(size) {
  if (size > inputCap) {
    if (inputPtr) zlib.fa_free(inputPtr)
    inputPtr = zlib.fa_alloc(size)
    inputCap = size
  }
  // Room for the worst case: stored blocks plus the flush marker.
  const bound = size + (size >> 12) + 64
  if (bound > outputCap) {
    if (outputPtr) zlib.fa_free(outputPtr)
    outputPtr = zlib.fa_alloc(bound)
    outputCap = bound
  }
  if (!inputPtr || !outputPtr || !dictionaryPtr) throw new Error('out of WebAssembly memory')
}

function deflateBlock(data, dictionary, last, level) {
  reserve(data.length)
  // Views are made after reserve(): growing the memory replaces memory.buffer.
  new Uint8Array(zlib.memory.buffer, inputPtr, data.length).set(data)
  const dictionaryLength = dictionary ? Math.min(dictionary.length, DICTIONARY_MAX) : 0
  if (dictionaryLength) {
    new Uint8Array(zlib.memory.buffer, dictionaryPtr, dictionaryLength).set(dictionary.subarray(dictionary.length - dictionaryLength))
  }
  const written = zlib.fa_deflate_block(level, inputPtr, data.length, dictionaryPtr, dictionaryLength, last ? 1 : 0, outputPtr, outputCap)
  if (written < 0) throw new Error(`zlib deflate failed (${written})`)
  return new Uint8Array(zlib.memory.buffer, outputPtr, written).slice()
}

external_node_worker_threads_namespaceObject.parentPort.on('message', ({ id, data, dictionary, last, level }) => {
  try {
    const out = deflateBlock(data, dictionary, last, level)
    external_node_worker_threads_namespaceObject.parentPort.postMessage({ id, out, input: data }, [out.buffer, data.buffer])
  } catch (error) {
    external_node_worker_threads_namespaceObject.parentPort.postMessage({ id, error: String(error?.message ?? error) })
  }
})

