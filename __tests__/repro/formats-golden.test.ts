/**
 * Golden bytes for zstd, lz4 and none, as gzip-golden.test.ts pins gzip's:
 * the output for a fixed input is pinned by its sha256, so a change to the
 * compressors (the committed zstd.wasm and lz4.wasm, their glue, block size,
 * default levels) cannot move published checksums unnoticed. That these bytes
 * are the C tools' own is formats.test.ts's job (__tests__/archive); that they
 * are the same on Node 24 and arm64 is cross-node.test.ts's. Here the .wasm
 * files are also rebuilt from Debian's pinned sources and compared.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from '@jest/globals'
import { compressStream } from '../../src/archive/compress.js'
import type { Compression } from '../../src/archive/compression.js'
import { blendBytes } from './payload.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const input = blendBytes(0x5eed2026, 3 * 1048576 + 777)
/** Over two 8 MiB lz4 blocks. */
const large = blendBytes(0x5eed2027, 17 * 1048576 + 4097)

const GOLDEN: [string, Buffer, Compression, number, string][] = [
  ['zstd (default level 5)', input, { format: 'zstd' }, 1659379, 'ec3a4d6b38a834c93f3e6f5f8509d14988fd814bfba3d8efadf2ee1d757b04f5'],
  ['zstd level 19', input, { format: 'zstd', level: 19 }, 1557379, 'dd4125354e886649567cfd1b165f37d0ed4d36f96172d69c8f384b17584ec557'],
  ['lz4 (default level 5)', large, { format: 'lz4' }, 8825712, '6215f77a6c54d78677d7595e66f3a195210511f54bb7e5757cdc63a115015fc6'],
  ['lz4 level 9', large, { format: 'lz4', level: 9 }, 8742183, 'c23b76c28906c90dc3de582f85cfeb1f920c566ec59609eba85e8bbf6b0e88c4'],
  ['lz4 level 1', large, { format: 'lz4', level: 1 }, 9963872, 'f6997eebcc262f1b3fca898a38493604a22f4b433d6f0ae7ed39d471ed50ba66'],
  ['none', input, { format: 'none' }, 3146505, 'c32f379f3ac18022465ee4c9b2f9f4b3418fd6ef19abd2ea80ea8f77e2f9efc2']
]

describe('golden output per format', () => {
  it.each(GOLDEN)('%s', async (name, data, compression, size, sha256) => {
    const hash = createHash('sha256')
    let written = 0
    const source = (async function* () {
      yield data
    })()
    for await (const chunk of compressStream(source, compression)) {
      hash.update(chunk)
      written += chunk.length
    }
    expect({ name, node: process.version, size: written, sha256: hash.digest('hex') }).toEqual({ name, node: process.version, size, sha256 })
  })
})

describe.each(['zstd', 'lz4'])('%s.wasm', (name) => {
  it(`is rebuilt byte for byte from Debian's pinned source by scripts/build-${name}-wasm.sh`, () => {
    const rebuilt = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-wasm-')), `${name}.wasm`)
    // The source comes from scripts/setup.sh's cache; a test never downloads.
    execFileSync('bash', [path.join(REPO, `scripts/build-${name}-wasm.sh`), rebuilt], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FLEDGE_CACHED_ONLY: '1' }
    })
    const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')
    expect(sha(rebuilt)).toBe(sha(path.join(REPO, `src/archive/${name}.wasm`)))
    fs.rmSync(path.dirname(rebuilt), { recursive: true })
  })
})
