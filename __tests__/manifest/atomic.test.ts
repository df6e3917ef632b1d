import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { writeFileAtomic } from '../../src/manifest/atomic.js'

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'fledge-atomic-'))
}

describe('writeFileAtomic', () => {
  it('replaces the file, keeps its mode and leaves nothing else behind', async () => {
    const dir = folder()
    const target = join(dir, 'caddy.json')
    writeFileSync(target, 'old')
    await chmod(target, 0o666) // wider than the umask would let a new file be
    await writeFileAtomic(target, '{"new": true}\n')
    expect(readFileSync(target, 'utf8')).toBe('{"new": true}\n')
    expect(statSync(target).mode & 0o777).toBe(0o666)
    expect(readdirSync(dir)).toEqual(['caddy.json'])
  })

  it('creates a new file from bytes', async () => {
    const dir = folder()
    await writeFileAtomic(join(dir, 'a.bin'), new Uint8Array([0, 1, 2]))
    expect([...readFileSync(join(dir, 'a.bin'))]).toEqual([0, 1, 2])
  })

  it('a failure half-way through the data leaves the original intact and no temp file', async () => {
    const dir = folder()
    const target = join(dir, 'plugin.cpio.gz')
    writeFileSync(target, 'original')
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(64 * 1024).fill(7)
      throw new Error('network reset')
    }
    const error = await writeFileAtomic(target, failing()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).format()).toContain(
      `${target}: could not write the file: network reset`
    )
    expect(readFileSync(target, 'utf8')).toBe('original')
    expect(readdirSync(dir)).toEqual(['plugin.cpio.gz'])
  })

  it('a failing rename (target is a folder) leaves no temp file', async () => {
    const dir = folder()
    const target = join(dir, 'manifest.json')
    mkdirSync(target)
    writeFileSync(join(target, 'keep'), 'x')
    await expect(writeFileAtomic(target, '{}')).rejects.toBeInstanceOf(FledgeError)
    expect(readdirSync(dir)).toEqual(['manifest.json'])
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('x')
  })

  it('a missing folder is a clear error', async () => {
    const target = join(folder(), 'no-such-dir', 'm.json')
    await expect(writeFileAtomic(target, '{}')).rejects.toMatchObject({
      location: { file: target }
    })
  })
})
