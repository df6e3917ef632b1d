/**
 * Golden bytes for the compressor. The output of gzipBlocks for a fixed input
 * is pinned by its sha256, and checked against an independent implementation
 * of the same procedure with stock zlib (Python's zlib module): our
 * compressor (stock zlib compiled to WebAssembly, committed as zlib.wasm and
 * rebuilt here from source) must give exactly stock zlib's bytes, on any Node
 * and any CPU. If the goldens move, every published checksum of an unchanged
 * plugin would move.
 */
import { createHash } from 'node:crypto'
import * as zlib from 'node:zlib'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, it, expect } from '@jest/globals'
import { gzipBlocks, gzipHeader, type GzipOptions } from '../../src/archive/gzip.js'
import { blendBytes, prng } from './payload.js'

const INPUT_SEED = 0x5eed2026
const INPUT_SIZE = 3 * 1048576 + 777
const input = blendBytes(INPUT_SEED, INPUT_SIZE)
const INPUT_SHA256 = 'c32f379f3ac18022465ee4c9b2f9f4b3418fd6ef19abd2ea80ea8f77e2f9efc2'

/** sha256 of the gzip output, by "level/blockSize" (the default is level 7, 1 MiB blocks). */
const GOLDEN: Record<string, string> = {
  '9/65536': 'd80a2e091a25eda37954b62d23e96f4bf604fa017df172f56b1a229d58f4460b',
  '9/100003': '34a18a195659b069a05ab5bea821064535e118963db689a2616bf93444a96e64',
  '9/1048576': 'f34bb8edae46c554bd3bb9fc68323980f02890980a95375f70626d4d5d6d727a',
  '7/65536': '811343ea35e821a9805ac422f33f8cda25538b4005179a135aa8fc01e0ac3a50',
  '7/100003': '8a2e871551b5bf32a6bab8b21f00f751bbb9536509440506277d1ee4a95a8576',
  '7/1048576': 'baee6dce8caa8f58352c92093d84582b90d036598633a80b53266e11f0ac57b8',
  '6/65536': 'c9daf2ea28ea932240e6097bfd6dcf1160e43a3ab28c34b19c4943913ccb968e',
  '6/100003': 'b62623d7f3baeac84d86eaf1643b92cbf092c3ce6f9211b52c985562ff2d195f',
  '6/1048576': '75adb5836f57cdaccd1f7290ce457dce50399f06552eefaf661704ca3462bd32'
}

/** The input in pieces of irregular sizes (from a seed), as a file stream would deliver it. */
async function* pieces(data: Buffer, seed: number, max: number): AsyncGenerator<Buffer> {
  const rand = prng(seed)
  let offset = 0
  while (offset < data.length) {
    const n = 1 + (rand() % max)
    yield data.subarray(offset, offset + n)
    offset += n
  }
}

async function gzip(data: AsyncIterable<Buffer>, options: GzipOptions): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const chunk of gzipBlocks(data, options)) out.push(chunk)
  return Buffer.concat(out)
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

describe('gzipBlocks golden output', () => {
  it('the input itself is what the goldens were made from', () => {
    expect(input.length).toBe(INPUT_SIZE)
    expect(sha256(input)).toBe(INPUT_SHA256)
  })

  for (const level of [9, 7, 6]) {
    for (const blockSize of [65536, 100003, 1048576]) {
      const key = `${level}/${blockSize}`
      it(`level ${level}, block size ${blockSize}: inflates to the input and matches the golden sha256`, async () => {
        const out = await gzip(pieces(input, 1, 200000), { level, blockSize, parallelism: 4 })
        expect(out.subarray(0, 10)).toEqual(gzipHeader(level))
        const inflated = zlib.gunzipSync(out)
        expect(inflated.length).toBe(input.length)
        expect(inflated.equals(input)).toBe(true)
        // Trailer: CRC-32 and size of the input.
        expect(out.readUInt32LE(out.length - 8)).toBe(zlib.crc32(input))
        expect(out.readUInt32LE(out.length - 4)).toBe(input.length)
        expect({ key, node: process.version, sha256: sha256(out) }).toEqual({
          key,
          node: process.version,
          sha256: GOLDEN[key]
        })
      })
    }
  }
})

describe('gzipBlocks bytes depend only on input, level and block size', () => {
  it('not on parallelism nor on how the input is cut into chunks', async () => {
    const level = 9
    const blockSize = 100003
    const outputs = new Map<string, string>()
    for (const parallelism of [1, 2, 3, 8]) {
      for (const [seed, max] of [
        [2, 1],
        [3, 4096],
        [4, 1048576 * 2]
      ] as const) {
        // One-byte chunks over 3 MB would take long: use a prefix of two and a bit blocks there.
        if (max === 1 && parallelism !== 1 && parallelism !== 8) continue
        const data = max === 1 ? input.subarray(0, 250000) : input
        const out = await gzip(pieces(data, seed, max), { level, blockSize, parallelism })
        outputs.set(`p${parallelism}/max${max}`, sha256(out))
      }
    }
    const full = [...outputs].filter(([k]) => !k.endsWith('/max1')).map(([, v]) => v)
    const prefix = [...outputs].filter(([k]) => k.endsWith('/max1')).map(([, v]) => v)
    expect(new Set(full)).toEqual(new Set([GOLDEN[`${level}/${blockSize}`]]))
    expect(new Set(prefix).size).toBe(1)
    // The one-chunk-per-byte prefix gives what the whole prefix in one piece gives.
    const whole = await gzip(
      (async function* () {
        yield input.subarray(0, 250000)
      })(),
      { level, blockSize, parallelism: 1 }
    )
    expect(prefix[0]).toBe(sha256(whole))
  })
})

/** The same pigz-style procedure written with stock zlib, in Python: an independent reference. */
const STOCK_ZLIB_REFERENCE = `
import sys, zlib
data = open(sys.argv[1], 'rb').read()
level, block = int(sys.argv[2]), int(sys.argv[3])
out, tail = bytearray(), None
for start in range(0, len(data), block):
    piece = data[start:start + block]
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, 0, *([tail] if tail else []))
    last = start + block >= len(data)
    out += c.compress(piece) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    tail = piece[-32768:]
sys.stdout.buffer.write(out)
`

describe('gzipBlocks equals stock zlib', () => {
  it.each([
    [7, 1048576],
    [9, 100003],
    [6, 65536]
  ])('level %i, block size %i: the deflate stream is byte-identical to Python zlib\'s', async (level, blockSize) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-zlib-ref-'))
    fs.writeFileSync(path.join(dir, 'input'), input)
    fs.writeFileSync(path.join(dir, 'ref.py'), STOCK_ZLIB_REFERENCE)
    const reference = execFileSync('python3', [path.join(dir, 'ref.py'), path.join(dir, 'input'), String(level), String(blockSize)], {
      maxBuffer: 64 << 20
    })
    const ours = await gzip(pieces(input, 5, 65536), { level, blockSize, parallelism: 2 })
    expect(ours.subarray(10, ours.length - 8).equals(reference)).toBe(true)
  })
})

describe('zlib.wasm', () => {
  it('is rebuilt byte for byte from the pinned zlib source by scripts/build-zlib-wasm.sh', () => {
    const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
    const rebuilt = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-wasm-')), 'zlib.wasm')
    // The source comes from scripts/setup.sh's cache; a test never downloads.
    execFileSync('bash', [path.join(repo, 'scripts/build-zlib-wasm.sh'), rebuilt], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FLEDGE_CACHED_ONLY: '1' }
    })
    expect(sha256(fs.readFileSync(rebuilt))).toBe(sha256(fs.readFileSync(path.join(repo, 'src/archive/zlib.wasm'))))
  })
})
