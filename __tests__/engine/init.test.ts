import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { obtainKernel } from '../../src/boot/kernel-source.js'
import { compileInit } from '../../src/init/compile.js'
import { silentLogger } from '../../src/log.js'

describe('the C init', () => {
  it('compiles to a static ELF, and is served from the cache the second time', async () => {
    process.env['RUNNER_TOOL_CACHE'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-tc-'))
    const first = await compileInit({ log: silentLogger, useCache: true })
    expect(fs.readFileSync(first.path).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
    expect(first.cacheHit).toBe(false)
    expect(first.compiler).toMatch(/gcc/)
    const second = await compileInit({ log: silentLogger, useCache: true })
    expect(second).toMatchObject({ cacheHit: true, sha256: first.sha256 })
  })

  it('without gcc: a clear error that says what to install', async () => {
    await expect(compileInit({ log: silentLogger, useCache: false, cc: 'no-such-gcc-here' })).rejects.toThrow(
      /the C compiler "no-such-gcc-here" was not found/
    )
    const error = await compileInit({ log: silentLogger, useCache: false, cc: 'no-such-gcc-here' }).catch((e: { format(): string }) => e.format())
    expect(error).toMatch(/Fix: install gcc and the static C library \(Debian\/Ubuntu, as root: apt install gcc libc6-dev\)/)
  })
})

describe('kernel for the smoke test', () => {
  it('a URL is downloaded, verified and cached; a wrong sha256 is refused', async () => {
    process.env['RUNNER_TOOL_CACHE'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-tc-'))
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-kernel-'))
    fs.writeFileSync(path.join(dir, 'vmlinuz'), 'not really a kernel')
    const wrong = await obtainKernel(`file://${dir}/vmlinuz`, '0'.repeat(64), silentLogger).catch((e: Error) => e.message)
    expect(wrong).toMatch(/sha256 mismatch for the kernel/)
    const got = await obtainKernel(`file://${dir}/vmlinuz`, undefined, silentLogger)
    expect(fs.readFileSync(got, 'utf8')).toBe('not really a kernel')
  })

  it('a path that does not exist is a clear error', async () => {
    await expect(obtainKernel('/nonexistent/vmlinuz', undefined, silentLogger)).rejects.toThrow(/kernel \/nonexistent\/vmlinuz does not exist/)
  })
})
