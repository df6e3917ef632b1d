import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32 } from '../../src/archive/crc32.js'
import { writeArchive } from '../../src/archive/write.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('crc32 without zlib.crc32 (Node 20 before 20.15 lacks it)', () => {
  it('gives the standard check values, in one call or continued over pieces', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
    expect(crc32(Buffer.alloc(0))).toBe(0)
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339)
    const data = randomBytes(100_003)
    let running = 0
    for (let i = 0; i < data.length; i += 7919) running = crc32(data.subarray(i, i + 7919), running)
    expect(running).toBe(crc32(data))
  })

  it('gzip -t accepts the trailer of an image (gzip checks the CRC)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-crc-'))
    const file = path.join(dir, 'x.cpio.gz')
    const content = randomBytes(3 << 20)
    await writeArchive([{ path: 'blob', type: 'file', mode: 0o644, uid: 0, gid: 0, source: { kind: 'bytes', data: content }, origin: 'test' }], file, { mtime: 0 })
    expect(execFileSync('gzip', ['-t', file]).toString()).toBe('')
    fs.rmSync(dir, { recursive: true })
  })

  it('nothing the faces run calls zlib.crc32 (src and the bundles in dist)', () => {
    const offenders: string[] = []
    const scan = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name)
        if (entry.isDirectory()) scan(file)
        else if (/\.(ts|js|mjs|cjs)$/.test(entry.name) && /\.crc32\b/.test(fs.readFileSync(file, 'utf8'))) {
          offenders.push(path.relative(REPO, file))
        }
      }
    }
    for (const dir of ['src', 'dist']) scan(path.join(REPO, dir))
    expect(offenders).toEqual([])
  })
})
