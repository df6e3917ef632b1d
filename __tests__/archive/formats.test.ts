/**
 * The four compressions (issue 13): each is what the C tool writes at the
 * same level, byte for byte (`zstd --single-thread -N` from a pipe, `lz4 -l -N`),
 * the C tools decompress it to the same cpio, the bytes depend only on input
 * and level (not on parallelism or how the input arrives), and readArchive
 * reads every format back to the same records.
 */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { compressStream } from '../../src/archive/compress.js'
import { COMPRESSION_FORMATS, DEFAULT_OUTPUT_NAME, describeCompression, parseCompression, type Compression } from '../../src/archive/compression.js'
import { readArchive, type ArchiveRecord } from '../../src/archive/read.js'
import { writeArchive } from '../../src/archive/write.js'
import { formatError } from '../../src/errors.js'
import type { Entry } from '../../src/image/entry.js'
import { blendBytes, prng } from '../repro/payload.js'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-formats-'))
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

/** 9.5 MiB: more than one 8 MiB lz4 block, several zstd pieces. */
const input = blendBytes(0x13f0, 9 * 1048576 + 524288 + 3)

async function* pieces(data: Buffer, seed: number, max: number): AsyncGenerator<Buffer> {
  const rand = prng(seed)
  let offset = 0
  while (offset < data.length) {
    const n = 1 + (rand() % max)
    yield data.subarray(offset, offset + n)
    offset += n
  }
}

async function compress(data: AsyncIterable<Buffer>, compression: Compression, parallelism?: number): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const chunk of compressStream(data, compression, parallelism ? { parallelism } : {})) out.push(chunk)
  return Buffer.concat(out)
}

function tool(command: string, args: string[], stdin: Buffer): Buffer {
  return execFileSync(command, args, { input: stdin, maxBuffer: 256 << 20 })
}

describe('zstd and lz4 equal the C tools at the same level', () => {
  it.each([
    ['lz4', 1],
    ['lz4', 2],
    ['lz4', 5],
    ['lz4', 9],
    ['lz4', 12]
  ] as const)('%s level %i: byte for byte what `lz4 -l` writes at that level', async (format, level) => {
    const ours = await compress(pieces(input, level, 300000), { format, level }, 3)
    expect([...ours.subarray(0, 4)]).toEqual([0x02, 0x21, 0x4c, 0x18])
    const reference = tool('lz4', ['-l', `-${level}`, '-c'], input)
    expect({ size: ours.length, sha256: sha(ours) }).toEqual({ size: reference.length, sha256: sha(reference) })
    expect(tool('lz4', ['-d', '-c'], ours).equals(input)).toBe(true)
  })

  it.each([1, 3, 5, 9, 12, 19])('zstd level %i: byte for byte what `zstd --single-thread` writes from a pipe at that level', async (level) => {
    // Level 19 is slow: 2 MiB, an exact multiple of zstd's 128 KiB block, where zstd ends
    // the frame with an empty last block (found by this test: we used to flag the last full one).
    const data = level === 19 ? input.subarray(0, 2 << 20) : input
    const ours = await compress(pieces(data, level, 300000), { format: 'zstd', level })
    expect([...ours.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd])
    const reference = tool('zstd', ['--single-thread', `-${level}`, '-q', '-c'], data)
    expect({ size: ours.length, sha256: sha(ours) }).toEqual({ size: reference.length, sha256: sha(reference) })
    expect(tool('zstd', ['-d', '-q', '-c'], ours).equals(data)).toBe(true)
  })

  it('none is the input itself', async () => {
    expect((await compress(pieces(input, 7, 100000), { format: 'none' })).equals(input)).toBe(true)
  })
})

describe('the bytes depend only on input and level', () => {
  it.each(['lz4', 'zstd'] as const)('%s: not on parallelism nor on how the input is cut', async (format) => {
    const data = input.subarray(0, format === 'zstd' ? 3 << 20 : input.length)
    const digests = new Set<string>()
    for (const [parallelism, seed, max] of [
      [1, 1, 4096],
      [2, 2, 8 << 20],
      [4, 3, 1 << 20]
    ] as const) {
      digests.add(sha(await compress(pieces(data, seed, max), { format }, parallelism)))
    }
    expect(digests.size).toBe(1)
  })
})

function sampleEntries(dir: string): Entry[] {
  fs.writeFileSync(path.join(dir, 'big'), input)
  fs.writeFileSync(path.join(dir, 'odd'), 'abcde')
  const e = (p: Partial<Entry> & Pick<Entry, 'path' | 'type'>): Entry => ({ mode: 0o755, uid: 0, gid: 0, origin: 'test', ...p })
  return [
    e({ path: '.', type: 'dir' }),
    e({ path: 'bin', type: 'dir' }),
    e({ path: 'bin/big', type: 'file', source: { kind: 'path', path: path.join(dir, 'big'), size: input.length } }),
    e({ path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'busybox' }),
    e({ path: 'dev', type: 'dir' }),
    e({ path: 'dev/console', type: 'char', mode: 0o600, rdev: { major: 5, minor: 1 } }),
    e({ path: 'odd', type: 'file', mode: 0o644, source: { kind: 'path', path: path.join(dir, 'odd'), size: 5 } })
  ]
}

async function records(file: string): Promise<ArchiveRecord[]> {
  const out: ArchiveRecord[] = []
  for await (const r of readArchive(file)) out.push(r)
  return out
}

describe('writeArchive and readArchive, every format', () => {
  it('each format reads back to the same records and the same cpio, which the C tools also unpack', async () => {
    const dir = tmp()
    const entries = sampleEntries(dir)
    const results = new Map<string, { contentSha256: string; records: ArchiveRecord[] }>()
    for (const format of COMPRESSION_FORMATS) {
      const out = path.join(dir, DEFAULT_OUTPUT_NAME[format])
      const result = await writeArchive(entries, out, { mtime: 1704067200, compression: { format } })
      const bytes = fs.readFileSync(out)
      expect(result.sha256).toBe(sha(bytes))
      const cpio =
        format === 'gzip' ? tool('gzip', ['-dc'], bytes)
        : format === 'zstd' ? tool('zstd', ['-dqc'], bytes)
        : format === 'lz4' ? tool('lz4', ['-dc'], bytes)
        : bytes
      expect({ format, content: sha(cpio) }).toEqual({ format, content: result.contentSha256 })
      results.set(format, { contentSha256: result.contentSha256, records: await records(out) })
    }
    const gzip = results.get('gzip')
    for (const [format, r] of results) {
      expect({ format, ...r }).toEqual({ format, ...gzip })
    }
    expect(gzip?.records.map((r) => r.path)).toEqual(entries.map((e) => e.path))
  })

  it('reads what the C tools write: lz4 -l, zstd with several threads, and several zstd frames', async () => {
    const dir = tmp()
    const raw = path.join(dir, 'plugin.cpio')
    await writeArchive(sampleEntries(dir), raw, { mtime: 1, compression: { format: 'none' } })
    const cpio = fs.readFileSync(raw)
    const expected = await records(raw)
    const cases: [string, Buffer][] = [
      ['lz4 -l -1', tool('lz4', ['-l', '-1', '-c'], cpio)],
      ['zstd -T2 -3', tool('zstd', ['-T2', '-3', '-q', '-c'], cpio)],
      // Two frames, the first ending on a record boundary (after the 110-byte "." header and padding).
      ['two zstd frames', Buffer.concat([tool('zstd', ['-q', '-c'], cpio.subarray(0, 112)), tool('zstd', ['-q', '-c'], cpio.subarray(112))])]
    ]
    for (const [name, bytes] of cases) {
      const file = path.join(dir, 'c')
      fs.writeFileSync(file, bytes)
      expect({ name, records: await records(file) }).toEqual({ name, records: expected })
    }
  })

  it('an lz4 frame-format image (what `lz4` writes without -l) is refused in one sentence with the fix', async () => {
    const dir = tmp()
    const raw = path.join(dir, 'plugin.cpio')
    await writeArchive(sampleEntries(dir), raw, { mtime: 1, compression: { format: 'none' } })
    const file = path.join(dir, 'frame.lz4')
    fs.writeFileSync(file, tool('lz4', ['-c'], fs.readFileSync(raw)))
    const error = await records(file).catch((e: unknown) => e)
    expect(formatError(error)).toMatch(/frame\.lz4: lz4 frame format at byte 0, which the kernel does not unpack\. Fix: compress with `lz4 -l`/)
  })

  it('truncated zstd and lz4 images are errors that say so', async () => {
    const dir = tmp()
    for (const format of ['zstd', 'lz4'] as const) {
      const out = path.join(dir, DEFAULT_OUTPUT_NAME[format])
      await writeArchive(sampleEntries(dir), out, { mtime: 1, compression: { format } })
      const bytes = fs.readFileSync(out)
      fs.writeFileSync(out, bytes.subarray(0, bytes.length - 1000))
      await expect(records(out)).rejects.toThrow(/corrupt or truncated|ends in the middle of a record/)
    }
  })
})

describe('parseCompression', () => {
  it('takes a format and an optional level', () => {
    expect(parseCompression('zstd', '--compression')).toEqual({ format: 'zstd' })
    expect(parseCompression('ZSTD:19', '--compression')).toEqual({ format: 'zstd', level: 19 })
    expect(parseCompression(' lz4:1 ', '--compression')).toEqual({ format: 'lz4', level: 1 })
    expect(describeCompression({ format: 'zstd' })).toBe('zstd level 5')
    expect(describeCompression({ format: 'lz4' })).toBe('lz4 level 5')
    expect(describeCompression({ format: 'gzip' })).toBe('gzip level 7')
    expect(describeCompression({ format: 'none' })).toBe('none')
  })

  it.each([
    ['xz', /--compression: unknown compression "xz"\. Fix: use one of gzip, zstd, lz4, none/],
    ['zstd:20', /zstd level "20" is out of range\. Fix: use a level from 1 to 19 .*32-128 MiB window to unpack/],
    ['lz4:0', /lz4 level "0" is out of range\. Fix: use a level from 1 to 12/],
    ['gzip:x', /gzip level "x" is out of range/],
    ['none:3', /"none:3" gives a level, but none has none\. Fix: write just "none"/],
    ['zstd:3:4', /unknown compression "zstd:3:4"/]
  ])('refuses %s in one sentence with the fix', (text, message) => {
    let error: unknown
    try {
      parseCompression(text, '--compression')
    } catch (e) {
      error = e
    }
    expect(formatError(error)).toMatch(message)
  })
})
