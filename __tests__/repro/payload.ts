/**
 * Deterministic test data for the reproducibility tests: the same seed gives
 * the same bytes on every Node and every CPU (32-bit integer arithmetic only,
 * no Math.random, no floating point), so nothing large has to be committed.
 *
 * The data is meant to exercise the compressor the way real images do:
 * incompressible stretches (compressed binaries), text, long runs of zeros,
 * tables of slowly changing integers, and repeats at distances both inside and
 * beyond deflate's 32 KiB window, including ones that straddle block borders.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

export type Rand = () => number

/** mulberry32: a 32-bit PRNG; returns unsigned 32-bit integers. */
export function prng(seed: number): Rand {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** An integer in [0, n). */
function below(rand: Rand, n: number): number {
  return rand() % n
}

export function randomBytes(rand: Rand, size: number): Buffer {
  const out = Buffer.alloc(size)
  let i = 0
  for (; i + 4 <= size; i += 4) out.writeUInt32LE(rand(), i)
  for (; i < size; i++) out[i] = rand() & 0xff
  return out
}

const SYLLABLES = [
  'ka',
  'ze',
  'lo',
  'mi',
  'tu',
  'ra',
  'ne',
  'vo',
  'shi',
  'qua',
  'de',
  'bre',
  'x',
  'on',
  'el',
  'ist'
]

function makeVocabulary(rand: Rand, count: number): string[] {
  const words: string[] = []
  for (let i = 0; i < count; i++) {
    let word = ''
    const n = 1 + below(rand, 4)
    for (let j = 0; j < n; j++) word += SYLLABLES[below(rand, SYLLABLES.length)]
    words.push(word)
  }
  return words
}

/** Text-like: lines of words from a small vocabulary (compresses ~3-4x). */
export function textBytes(rand: Rand, size: number): Buffer {
  const words = makeVocabulary(rand, 400)
  const parts: string[] = []
  let length = 0
  let column = 0
  while (length < size) {
    let piece = words[Math.min(below(rand, words.length), below(rand, words.length))] as string
    if (below(rand, 20) === 0) piece = piece.toUpperCase()
    if (below(rand, 37) === 0) piece += String(below(rand, 100000))
    column += piece.length + 1
    piece += column > 72 ? '\n' : ' '
    if (column > 72) column = 0
    parts.push(piece)
    length += piece.length
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size)
}

/** Mostly zeros, with short random islands: long matches and lazy-match edge cases. */
export function sparseBytes(rand: Rand, size: number): Buffer {
  const out = Buffer.alloc(size)
  let i = below(rand, 4096)
  while (i < size) {
    const island = 1 + below(rand, 64)
    for (let j = 0; j < island && i + j < size; j++) out[i + j] = rand() & 0xff
    i += island + below(rand, 16384)
  }
  return out
}

/** Little-endian records of slowly changing integers, like symbol or relocation tables. */
export function tableBytes(rand: Rand, size: number): Buffer {
  const out = Buffer.alloc(size)
  let address = 0x400000
  let index = 0
  for (let i = 0; i + 16 <= size; i += 16) {
    address += 4 * (1 + below(rand, 64))
    out.writeUInt32LE(address, i)
    out.writeUInt32LE(index++, i + 4)
    out.writeUInt32LE(below(rand, 8) === 0 ? rand() : 0x12, i + 8)
    out.writeUInt32LE(below(rand, 300), i + 12)
  }
  return out
}

/**
 * Random segments and copies of earlier bytes at distances up to 96 KiB, so
 * some matches are in the window (and in the previous block's dictionary) and
 * some are just out of reach.
 */
export function mixedBytes(rand: Rand, size: number): Buffer {
  const out = Buffer.alloc(size)
  let i = 0
  while (i < size) {
    const kind = below(rand, 4)
    const length = Math.min(size - i, 64 + below(rand, kind === 0 ? 8192 : 2048))
    if (kind === 0 || i < 1024) {
      randomBytes(rand, length).copy(out, i)
    } else if (kind === 3) {
      out.fill(below(rand, 3) === 0 ? 0 : rand() & 0xff, i, i + length)
    } else {
      const distance = 1 + below(rand, Math.min(i, kind === 1 ? 32768 : 98304))
      for (let j = 0; j < length; j++) out[i + j] = out[i + j - distance] as number
    }
    i += length
  }
  return out
}

const KINDS = [randomBytes, textBytes, sparseBytes, tableBytes, mixedBytes]

/** All kinds in turn, in segments of varying length: one buffer for the gzip unit tests. */
export function blendBytes(seed: number, size: number): Buffer {
  const rand = prng(seed)
  const parts: Buffer[] = []
  let length = 0
  let k = 0
  while (length < size) {
    const n = Math.min(size - length, 20000 + below(rand, 300000))
    parts.push((KINDS[k++ % KINDS.length] as (r: Rand, n: number) => Buffer)(rand, n))
    length += n
  }
  return Buffer.concat(parts)
}

/** No file may look like an ELF file: the build's ELF check would try to judge it. */
function notElf(data: Buffer): Buffer {
  if (data[0] === 0x7f) data[0] = 0x7e
  return data
}

export interface Payload {
  files: number
  bytes: number
}

/**
 * Writes the payload folder (about 12.5 MB): a few large files of each kind,
 * and a few hundred small ones (some empty) so headers and padding fall
 * everywhere relative to the compressor's blocks. Sizes are deliberately not
 * multiples of anything.
 */
export async function writePayload(dir: string, seed: number): Promise<Payload> {
  const rand = prng(seed)
  const large: [string, (r: Rand, n: number) => Buffer, number][] = [
    ['random.bin', randomBytes, 3 * 1048576 + 12345],
    ['text.txt', textBytes, 4 * 1048576 - 777],
    ['sparse.bin', sparseBytes, 2 * 1048576 + 4099],
    ['table.bin', tableBytes, 1536 * 1024 + 16],
    ['mixed.bin', mixedBytes, 2 * 1048576 - 31]
  ]
  let files = 0
  let bytes = 0
  const write = async (file: string, data: Buffer) => {
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, notElf(data), { mode: 0o644 })
    await fs.chmod(file, 0o644) // the umask must not matter
    files++
    bytes += data.length
  }
  for (const [name, make, size] of large) await write(path.join(dir, name), make(rand, size))
  for (let i = 0; i < 300; i++) {
    const size = i % 50 === 0 ? 0 : below(rand, 6000)
    const make = KINDS[below(rand, KINDS.length)] as (r: Rand, n: number) => Buffer
    const folder = `d${(i % 7).toString()}`
    await write(
      path.join(dir, 'small', folder, `f${i.toString().padStart(3, '0')}`),
      make(rand, size)
    )
  }
  return { files, bytes }
}
