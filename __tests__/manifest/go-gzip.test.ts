import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { goGzip } from '../../src/manifest/go-gzip.js'
import { goBuild } from '../support/go.js'

// The reference is the machine's Go itself: __tests__/fixtures/go-gzip/main.go does what
// volantd's pluginspec.Encode does (gzip.NewWriter, one Write, Close).
const fixtureDir = join(process.cwd(), '__tests__/fixtures/go-gzip')
const manifestDir = join(process.cwd(), '__tests__/fixtures/manifest')
let buildDir = ''
let reference = ''
let goVersion = ''

beforeAll(() => {
  const version = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (version.error !== undefined || version.status !== 0) {
    throw new Error(
      `go is needed to build the Go gzip reference (${version.error?.message ?? version.stderr}). Fix: run scripts/setup.sh`
    )
  }
  goVersion = version.stdout.trim()
  buildDir = mkdtempSync(join(tmpdir(), 'go-gzip-ref-'))
  reference = join(buildDir, 'go-gzip-ref')
  goBuild(fixtureDir, reference, 'the Go gzip reference')
}, 300_000)

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true })
})

/** Go's gzip of each input, from one run of the reference in -batch mode. */
function goReference(inputs: readonly Uint8Array[]): Buffer[] {
  const framed: Buffer[] = []
  for (const input of inputs) {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(input.length)
    framed.push(length, Buffer.from(input.buffer, input.byteOffset, input.length))
  }
  const run = spawnSync(reference, ['-batch'], {
    input: Buffer.concat(framed),
    maxBuffer: 1 << 30
  })
  if (run.status !== 0) throw new Error(`Go reference failed: ${run.stderr.toString()}`)
  const outputs: Buffer[] = []
  let at = 0
  while (at < run.stdout.length) {
    const length = run.stdout.readUInt32BE(at)
    outputs.push(run.stdout.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  expect(outputs).toHaveLength(inputs.length)
  return outputs
}

/** Compares goGzip with Go on each input; returns the names of the inputs that differ. */
function mismatches(cases: ReadonlyArray<readonly [string, Uint8Array]>): string[] {
  const expected = goReference(cases.map(([, input]) => input))
  const differing: string[] = []
  cases.forEach(([name, input], i) => {
    const ours = goGzip(input)
    if (!ours.equals(expected[i]!)) differing.push(`${name} (${input.length} bytes)`)
    // Any gunzip must read it back, not only Go's.
    expect(gunzipSync(ours).equals(Buffer.from(input))).toBe(true)
  })
  return differing
}

/** mulberry32: a small seeded generator, so the fuzz cases are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const words = [
  'name',
  'version',
  'runtime',
  'caddy',
  'nginx',
  'workload',
  'entrypoint',
  '/usr/bin/caddy',
  'health_check',
  'endpoint',
  '/healthz',
  'timeout_ms',
  'resources',
  'cpu_cores',
  'memory_mb',
  'base_url',
  'http://127.0.0.1:80',
  'env',
  'PATH',
  '/usr/local/bin:/usr/bin:/bin',
  'artifacts',
  'checksum',
  'sha256:',
  'initramfs',
  'url',
  'format',
  'cpio.gz',
  'labels',
  'devices',
  'pci'
]

/** A JSON-like document of roughly `size` bytes: manifest words, numbers, hex, nesting. */
function jsonLike(random: () => number, size: number): string {
  const pick = (): string => words[Math.floor(random() * words.length)]!
  const value = (depth: number): string => {
    const r = random()
    if (r < 0.3) return JSON.stringify(pick())
    if (r < 0.45) return String(Math.floor(random() * 100000))
    if (r < 0.55) return JSON.stringify(randomHex(random, 8 + Math.floor(random() * 56)))
    if (r < 0.6) return random() < 0.5 ? 'true' : 'null'
    if (depth > 3) return '""'
    if (r < 0.8) {
      const n = 1 + Math.floor(random() * 5)
      return `[${Array.from({ length: n }, () => value(depth + 1)).join(',')}]`
    }
    const n = 1 + Math.floor(random() * 6)
    return `{${Array.from({ length: n }, () => `${JSON.stringify(pick())}:${value(depth + 1)}`).join(',')}}`
  }
  const entries: string[] = []
  let length = 2
  while (length < size) {
    const entry = `${JSON.stringify(pick() + String(entries.length))}:${value(0)}`
    entries.push(entry)
    length += entry.length + 1
  }
  return `{${entries.join(',')}}`
}

/** Seeded bytes, so that a failing case can be replayed. */
function randomBytes(length: number, random = seededRandom(length)): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

function randomHex(random: () => number, length: number): string {
  let hex = ''
  for (let i = 0; i < length; i++) hex += '0123456789abcdef'[Math.floor(random() * 16)]
  return hex
}

function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

describe("goGzip against the machine's Go compress/gzip (1.19 to 1.26)", () => {
  it('writes the header and trailer Go writes (no name, mtime 0, XFL 0, OS 255)', () => {
    const out = goGzip(bytes('hello'))
    expect(out.subarray(0, 10).toString('hex')).toBe('1f8b08000000000000ff')
    expect(out.readUInt32LE(out.length - 4)).toBe(5)
    expect(goGzip(new Uint8Array(0)).toString('hex')).toBe(
      '1f8b08000000000000ff' + '0100' + '00ffff' + '00000000' + '00000000'
    )
  })

  it('takes each of the three block types where Go does (stored, fixed, dynamic)', () => {
    // BTYPE is bits 1-2 of the first deflate byte (right after the 10-byte header).
    const firstBlockType = (data: Uint8Array): number => (goGzip(data)[10]! >> 1) & 3
    const caddy = readFileSync(join(manifestDir, 'caddy.json'))
    expect(firstBlockType(randomBytes(5000))).toBe(0)
    expect(firstBlockType(bytes('hello'))).toBe(1)
    expect(firstBlockType(caddy)).toBe(2)
    expect(
      mismatches([
        ['random', randomBytes(5000)],
        ['hello', bytes('hello')],
        ['caddy', caddy]
      ])
    ).toEqual([])
  })

  it('matches Go byte for byte on the named cases', () => {
    expect(goVersion).toMatch(/^go version go1\.(19|2[0-6])[.\s]/)
    const random = seededRandom(42)
    const manifests = readdirSync(manifestDir)
      .filter((name) => name.endsWith('.json'))
      .flatMap((name): Array<[string, Uint8Array]> => {
        const text = readFileSync(join(manifestDir, name), 'utf8')
        return [
          [`${name} as written`, bytes(text)],
          [`${name} compact, as json.Marshal writes it`, bytes(JSON.stringify(JSON.parse(text)))]
        ]
      })
    const run = randomBytes(1000)
    const hex40 = bytes(randomHex(random, 40))
    const phrase = bytes('{"name":"caddy","version":"1.0.0","runtime":"caddy"},')
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['one byte', bytes('x')],
      ['one zero byte', new Uint8Array(1)],
      ['three bytes', bytes('abc')],
      ['four equal bytes', bytes('aaaa')],
      ['two symbols', bytes('abababababababab')],
      ...manifests,
      ['repetitive, 10 KiB of one byte', Buffer.alloc(10 * 1024, 'a')],
      ['repetitive phrase x 200', Buffer.concat(Array.from({ length: 200 }, () => phrase))],
      ['random 100 (stored block)', randomBytes(100)],
      ['random 5000 (stored block)', randomBytes(5000)],
      ['random 65535 (one stored block)', randomBytes(65535)],
      ['random 70000 (blocks of 16384 tokens, stored)', randomBytes(70000)],
      [
        'long matches (> 258): a 1000-byte random run, 4 times',
        Buffer.concat([run, run, run, run])
      ],
      ['a match at the far end of the window', Buffer.concat([hex40, randomBytes(32700), hex40])],
      ['highly compressible 1 MiB (block outlives the window slide)', Buffer.alloc(1 << 20, 'abc')],
      ['text, 200 KiB', bytes(jsonLike(random, 200 * 1024))]
    ]
    for (const size of [32767, 32768, 32769, 65274, 65275, 65535, 65536, 65537, 98304, 131073]) {
      cases.push([`json-like of ${size} bytes`, bytes(jsonLike(random, size)).subarray(0, size)])
    }
    expect(mismatches(cases)).toEqual([])
    // zlib (what this module replaces) gives other bytes for the same manifest at level 6.
    const [, caddy] = manifests.find(([name]) => name.startsWith('caddy.json compact'))!
    expect(gzipSync(caddy, { level: 6 }).equals(goGzip(caddy))).toBe(false)
  })

  it('matches Go byte for byte on 400 seeded JSON-like inputs of 10 B to 40 KiB', () => {
    const random = seededRandom(20260605)
    const cases: Array<[string, Uint8Array]> = []
    for (let i = 0; i < 400; i++) {
      // Mostly manifest-sized, a few up to 40 KiB.
      const size = Math.floor(10 * Math.pow(4096, random() ** 1.5))
      cases.push([`fuzz #${i}`, bytes(jsonLike(random, size))])
    }
    expect(mismatches(cases)).toEqual([])
  })

  it('matches Go past 16 MiB, where Go rebases its hash chain offsets', () => {
    // 65 copies of 256 KiB: more than the window apart, so each copy is compressed afresh.
    const part = bytes(jsonLike(seededRandom(7), 256 * 1024))
    const input = Buffer.concat(Array.from({ length: 65 }, () => part))
    expect(input.length).toBeGreaterThan((1 << 24) + 2 * 32768)
    expect(mismatches([['json-like, 16.25 MiB', input]])).toEqual([])
  })
})
