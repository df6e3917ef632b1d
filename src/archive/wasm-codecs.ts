import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The WebAssembly builds of Debian's libzstd and lz4 (scripts/build-*-wasm.sh),
 * loaded on the main thread for reading archives back. They sit beside this
 * module, and beside the bundle in dist/ (scripts/package.sh copies them).
 */
interface Exports {
  memory: { buffer: ArrayBuffer }
  fa_alloc(size: number): number
  fa_free(pointer: number): void
}

export interface ZstdExports extends Exports {
  fa_zstd_decompress_begin(): number
  fa_zstd_decompress(input: number, inputLength: number, output: number, outputCap: number): number
  fa_zstd_consumed(): number
}

export interface Lz4Exports extends Exports {
  fa_lz4_decompress(input: number, inputLength: number, output: number, outputCap: number): number
}

/** The few WebAssembly globals used here (the project's TypeScript lib has no DOM types). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: object }
}

const loaded = new Map<string, Exports>()

function load<T extends Exports>(file: string): T {
  let exports = loaded.get(file)
  if (!exports) {
    const here = path.dirname(fileURLToPath(import.meta.url))
    exports = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path.join(here, file))), {}).exports as unknown as Exports
    loaded.set(file, exports)
  }
  return exports as T
}

export const zstdWasm = (): ZstdExports => load<ZstdExports>('zstd.wasm')
export const lz4Wasm = (): Lz4Exports => load<Lz4Exports>('lz4.wasm')
