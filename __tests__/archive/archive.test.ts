import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { readArchive } from '../../src/archive/read.js'
import { writeArchive } from '../../src/archive/write.js'
import type { Entry } from '../../src/image/entry.js'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-archive-'))
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

function sampleEntries(dir: string): Entry[] {
  const big = Buffer.alloc(3 << 20)
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
  fs.writeFileSync(path.join(dir, 'big'), big)
  fs.writeFileSync(path.join(dir, 'odd'), 'abcde') // length not a multiple of 4
  const e = (p: Partial<Entry> & Pick<Entry, 'path' | 'type'>): Entry => ({ mode: 0o755, uid: 0, gid: 0, origin: 'test', ...p })
  return [
    e({ path: '.', type: 'dir' }),
    e({ path: 'bin', type: 'dir' }),
    e({ path: 'bin/big', type: 'file', source: { kind: 'path', path: path.join(dir, 'big'), size: big.length } }),
    e({ path: 'bin/sh', type: 'symlink', mode: 0o777, target: 'busybox' }),
    e({ path: 'dev', type: 'dir' }),
    e({ path: 'dev/console', type: 'char', mode: 0o600, rdev: { major: 5, minor: 1 } }),
    e({ path: 'empty', type: 'file', mode: 0o644, source: { kind: 'bytes', data: new Uint8Array() } }),
    e({ path: 'odd', type: 'file', mode: 0o644, source: { kind: 'path', path: path.join(dir, 'odd'), size: 5 } }),
    e({ path: 'unicode-é', type: 'file', mode: 0o600, source: { kind: 'bytes', data: Buffer.from('hé') } })
  ]
}

describe('writeArchive → readArchive', () => {
  it('round-trips every record type, with digests, inodes 1..N and fixed owners/mtime', async () => {
    const dir = tmp()
    const entries = sampleEntries(dir)
    const out = path.join(dir, 'out', 'image.cpio.gz')
    const result = await writeArchive(entries, out, { mtime: 1704067200, gzip: { blockSize: 64 * 1024 } })
    const bytes = fs.readFileSync(out)
    expect(result.sha256).toBe(sha(bytes))
    expect(result.size).toBe(bytes.length)
    const cpio = zlib.gunzipSync(bytes)
    expect(result.contentSha256).toBe(sha(cpio))
    expect(result.contentSize).toBe(cpio.length)
    expect(result.fileDigests.get('bin/big')).toBe(sha(fs.readFileSync(path.join(dir, 'big'))))
    // gzip header: no name, mtime 0, XFL 0 (level 7), OS 3
    expect([...bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])

    const records = []
    for await (const r of readArchive(out)) records.push(r)
    expect(records.map((r) => r.path)).toEqual(entries.map((e) => e.path))
    expect(records.find((r) => r.path === 'bin/sh')).toMatchObject({ type: 'symlink', target: 'busybox', mode: 0o777 })
    expect(records.find((r) => r.path === 'dev/console')).toMatchObject({ type: 'char', rdev: { major: 5, minor: 1 } })
    expect(records.find((r) => r.path === 'odd')).toMatchObject({ size: 5, sha256: sha('abcde') })
    expect(records.find((r) => r.path === 'empty')).toMatchObject({ size: 0, sha256: sha('') })
    expect(records.every((r) => r.uid === 0 && r.gid === 0 && r.mtime === 1704067200)).toBe(true)

    // inode numbers 1..N, devmajor/minor 0: read straight from the headers
    let offset = 0
    const inodes: number[] = []
    while (offset < cpio.length) {
      const head = cpio.toString('latin1', offset, offset + 110)
      const field = (i: number) => parseInt(head.slice(6 + i * 8, 14 + i * 8), 16)
      const namesize = field(11)
      const name = cpio.toString('utf8', offset + 110, offset + 110 + namesize - 1)
      if (name === 'TRAILER!!!') break
      inodes.push(field(0))
      expect([field(7), field(8)]).toEqual([0, 0])
      const dataStart = offset + 110 + namesize + ((4 - ((110 + namesize) % 4)) % 4)
      offset = dataStart + field(6) + ((4 - (field(6) % 4)) % 4)
    }
    expect(inodes).toEqual(entries.map((_, i) => i + 1))
  })

  it('GNU cpio and bsdtar read it and list the same entries and modes', async () => {
    const dir = tmp()
    const out = path.join(dir, 'a.cpio.gz')
    await writeArchive(sampleEntries(dir), out, { mtime: 1704067200 })
    const gnu = execFileSync('sh', ['-c', `zcat '${out}' | cpio -it --quiet`]).toString().trim().split('\n')
    const bsd = execFileSync('bsdtar', ['-tf', out]).toString().trim().split('\n')
    const ours = []
    for await (const r of readArchive(out)) ours.push(r.path)
    expect(gnu).toEqual(ours)
    expect(bsd).toEqual(ours)
    // extraction gives back the bytes
    const x = path.join(dir, 'x')
    fs.mkdirSync(x)
    execFileSync('bsdtar', ['-xf', out, '-C', x, '--exclude', 'dev/*'])
    expect(fs.readFileSync(path.join(x, 'odd'), 'utf8')).toBe('abcde')
    expect(fs.readlinkSync(path.join(x, 'bin/sh'))).toBe('busybox')
  })

  it('the bytes do not depend on parallelism, only on the input, level and block size', async () => {
    const dir = tmp()
    const entries = sampleEntries(dir)
    const a = await writeArchive(entries, path.join(dir, 'a'), { mtime: 1, gzip: { parallelism: 1, blockSize: 128 << 10 } })
    const b = await writeArchive(entries, path.join(dir, 'b'), { mtime: 1, gzip: { parallelism: 8, blockSize: 128 << 10 } })
    const c = await writeArchive(entries, path.join(dir, 'c'), { mtime: 1, gzip: { parallelism: 4, blockSize: 256 << 10 } })
    expect(a.sha256).toBe(b.sha256)
    expect(c.contentSha256).toBe(a.contentSha256)
    expect(c.sha256).not.toBe(a.sha256)
  })

  it('a source that changes size during the build fails and leaves no file behind', async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'f'), 'short')
    const entries: Entry[] = [
      { path: '.', type: 'dir', mode: 0o755, uid: 0, gid: 0, origin: 't' },
      { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, origin: 't', source: { kind: 'path', path: path.join(dir, 'f'), size: 100 } }
    ]
    const out = path.join(dir, 'out.cpio.gz')
    await expect(writeArchive(entries, out, { mtime: 0 })).rejects.toThrow(/changed while the image was being written/)
    expect(fs.readdirSync(dir)).toEqual(['f'])
  })
})

describe('readArchive accepts what the kernel accepts', () => {
  it('plain newc, concatenated gzip members, and raw cpio followed by gzip', async () => {
    const dir = tmp()
    const e = (p: string, data: string): Entry[] => [
      { path: '.', type: 'dir', mode: 0o755, uid: 0, gid: 0, origin: 't' },
      { path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, origin: 't', source: { kind: 'bytes', data: Buffer.from(data) } }
    ]
    await writeArchive(e('one', '1'), path.join(dir, '1.gz'), { mtime: 0 })
    await writeArchive(e('two', '22'), path.join(dir, '2.gz'), { mtime: 0 })
    const one = fs.readFileSync(path.join(dir, '1.gz'))
    const two = fs.readFileSync(path.join(dir, '2.gz'))
    const list = async (file: string) => {
      const names = []
      for await (const r of readArchive(file)) names.push(r.path)
      return names
    }
    fs.writeFileSync(path.join(dir, 'plain.cpio'), zlib.gunzipSync(one))
    expect(await list(path.join(dir, 'plain.cpio'))).toEqual(['.', 'one'])
    fs.writeFileSync(path.join(dir, 'members.gz'), Buffer.concat([one, two]))
    expect(await list(path.join(dir, 'members.gz'))).toEqual(['.', 'one', '.', 'two'])
    fs.writeFileSync(path.join(dir, 'mixed'), Buffer.concat([zlib.gunzipSync(one), Buffer.alloc(512), two]))
    expect(await list(path.join(dir, 'mixed'))).toEqual(['.', 'one', '.', 'two'])
  })

  it('rejects a file that is not an archive, and a truncated one, clearly', async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'text'), 'hello world')
    await expect(readArchive(path.join(dir, 'text')).next()).rejects.toThrow(/not a newc cpio archive/)
    const entries: Entry[] = [
      { path: '.', type: 'dir', mode: 0o755, uid: 0, gid: 0, origin: 't' },
      { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, origin: 't', source: { kind: 'bytes', data: Buffer.alloc(1000, 7) } }
    ]
    await writeArchive(entries, path.join(dir, 'ok.gz'), { mtime: 0 })
    fs.writeFileSync(path.join(dir, 'cut'), zlib.gunzipSync(fs.readFileSync(path.join(dir, 'ok.gz'))).subarray(0, 400))
    const drain = async () => {
      for await (const r of readArchive(path.join(dir, 'cut'))) void r
    }
    await expect(drain()).rejects.toThrow(/archive ends in the middle of a record/)
  })
})
