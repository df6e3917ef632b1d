/**
 * Golden bytes for the compressor. The output of gzipBlocks for a fixed input
 * is pinned by its sha256, so a Node upgrade whose zlib (Chromium's fork)
 * deflates differently fails here, on whichever Node runs the unit tests,
 * even without the cross-Node run (cross-node.test.ts). If this fails after
 * a Node or zlib change, the change is real: every published checksum of an
 * unchanged plugin would move. See initramfs-format.md, Reproducibility.
 */
import { createHash } from 'node:crypto'
import * as zlib from 'node:zlib'
import { describe, it, expect } from '@jest/globals'
import { gzipBlocks, gzipHeader, type GzipOptions } from '../../src/archive/gzip.js'
import { blendBytes, prng } from './payload.js'

const INPUT_SEED = 0x5eed2026
const INPUT_SIZE = 3 * 1048576 + 777
const input = blendBytes(INPUT_SEED, INPUT_SIZE)
const INPUT_SHA256 = 'c32f379f3ac18022465ee4c9b2f9f4b3418fd6ef19abd2ea80ea8f77e2f9efc2'

/** sha256 of the gzip output, by "level/blockSize". Computed with Node 20.20.2 and checked with 24.22.3 (x64 and arm64). */
const GOLDEN: Record<string, string> = {
  '9/65536': 'b67b647fb8dc84bcb165fabb943bb349a7c05a415b1bb8c4eb3fdbe1743fb0de',
  '9/100003': 'e8973ec95113b54a8704adcebbb35d8be32f0c21dbf54766ae037170dbdd8669',
  '9/1048576': 'a511a7c7663b90af658fe140a61af84763444f8238882e9a6b24da4e8abce17e',
  '6/65536': '5a2216d350064af45732a63a693e26e55fd32535fb11c7844dedaa89beb45e26',
  '6/100003': 'd408d03a1bf78d99b9422382ffd9da0edde2a102efdb51d2491c1ea7e567f11a',
  '6/1048576': 'fdff2c55d29b5d24ac2e2db900be6da557197876e7edabe747cc4346b8aa2492'
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

  for (const level of [9, 6]) {
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
    for (const parallelism of [1, 2, 3, 8, 32]) {
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
