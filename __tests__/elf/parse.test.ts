import { beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import { parseElf, parseElfBytes, parseElfFile, type ElfFile } from '../../src/elf/parse.js'
import { openFileReader, type PositionalReader } from '../../src/elf/reader.js'
import { buildElf, EM } from './elf-builder.js'
import {
  compileFixtures,
  ensureDownloadedFixtures,
  hostBusybox,
  hostFile,
  type CompiledFixtures,
  type DownloadedFixtures
} from './fixtures.js'

let compiled: CompiledFixtures
let downloaded: DownloadedFixtures

beforeAll(() => {
  compiled = compileFixtures()
  downloaded = ensureDownloadedFixtures()
})

async function parseOk(path: string): Promise<ElfFile> {
  const result = await parseElfFile(path)
  if (result?.status !== 'ok') throw new Error(`${path}: ${JSON.stringify(result)}`)
  return result
}

describe('parseElfFile on real binaries', () => {
  it('reads gcc -static as a static x86-64 executable', async () => {
    const elf = await parseOk(compiled.staticExec)
    expect(elf).toMatchObject({
      bits: 64,
      endian: 'little',
      machine: 'x86-64',
      type: 'EXEC',
      linkage: 'static',
      needed: []
    })
    expect(elf.interp).toBeUndefined()
  })

  it('reads gcc -static-pie (ET_DYN without PT_INTERP) as static', async () => {
    const elf = await parseOk(compiled.staticPie)
    expect(elf).toMatchObject({ type: 'DYN', linkage: 'static', pie: true, machine: 'x86-64' })
    expect(elf.interp).toBeUndefined()
  })

  it('reads plain gcc output as dynamic with its interpreter and libc', async () => {
    const elf = await parseOk(compiled.dynamic)
    expect(elf).toMatchObject({
      type: 'DYN',
      linkage: 'dynamic',
      pie: true,
      interp: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libc.so.6']
    })
  })

  it(
    'reads Debian busybox-static as a static x86-64 executable',
    async () => {
      const elf = await parseOk(hostBusybox())
      expect(elf).toMatchObject({ machine: 'x86-64', type: 'EXEC', linkage: 'static', needed: [] })
    }
  )

  it("reads Debian caddy's interpreter and DT_NEEDED in file order", async () => {
    const elf = await parseOk(downloaded.caddy)
    expect(elf).toMatchObject({
      machine: 'x86-64',
      type: 'EXEC',
      linkage: 'dynamic',
      interp: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libzstd.so.1', 'libc.so.6']
    })
  })

  it('reads only a few kilobytes of a large binary', async () => {
    const file = await openFileReader(downloaded.caddy)
    let bytesRead = 0
    const counting: PositionalReader = {
      size: file.size,
      read: async (offset, length) => {
        const bytes = await file.read(offset, length)
        bytesRead += bytes.byteLength
        return bytes
      },
      close: () => file.close()
    }
    try {
      expect(file.size).toBeGreaterThan(10 << 20)
      expect((await parseElf(counting))?.status).toBe('ok')
      expect(bytesRead).toBeLessThan(16 << 10)
    } finally {
      await counting.close()
    }
  })

  it('reads the aarch64 fixture as aarch64', async () => {
    const elf = await parseOk(downloaded.aarch64)
    expect(elf).toMatchObject({ machine: 'aarch64', bits: 64, endian: 'little', linkage: 'static' })
  })

  it("reads the host's libc.so.6 as a library with a SONAME (and, for glibc, a PT_INTERP)", async () => {
    const elf = await parseOk(hostFile('/lib/x86_64-linux-gnu/libc.so.6'))
    expect(elf).toMatchObject({ type: 'DYN', soname: 'libc.so.6', pie: false })
  })
})

describe('parseElfBytes on synthetic files', () => {
  it.each([
    [32, 'little', EM.I386, 'i386'],
    [32, 'little', EM.ARM, 'arm'],
    [64, 'little', EM.RISCV, 'riscv64'],
    [64, 'little', EM.PPC64, 'ppc64le'],
    [64, 'big', EM.PPC64, 'ppc64'],
    [64, 'big', EM.S390, 's390x'],
    [32, 'big', EM.MIPS, 'mips'],
    [64, 'little', EM.AARCH64, 'aarch64'],
    [64, 'little', 9999, 'e_machine 9999']
  ] as const)('ELF%i %s-endian machine %i is %s', async (bits, endian, machine, name) => {
    const elf = await parseElfBytes(
      buildElf({ bits, endian, machine, interp: '/lib/ld.so.1', needed: ['libc.so.6', 'libm.so'] })
    )
    expect(elf).toMatchObject({
      status: 'ok',
      bits,
      endian,
      machine: name,
      linkage: 'dynamic',
      interp: '/lib/ld.so.1',
      needed: ['libc.so.6', 'libm.so']
    })
  })

  it('finds the dynamic section by address, not by a wrong p_offset', async () => {
    const elf = await parseElfBytes(
      buildElf({ needed: ['libfoo.so.2'], misleadingDynamicOffset: true })
    )
    expect(elf).toMatchObject({ status: 'ok', needed: ['libfoo.so.2'] })
  })

  it('reads SONAME, RPATH, RUNPATH and the PIE flag', async () => {
    const elf = await parseElfBytes(
      buildElf({ type: 3, soname: 'libx.so.1', rpath: '/opt/r', runpath: '$ORIGIN/../lib' })
    )
    expect(elf).toMatchObject({
      status: 'ok',
      type: 'DYN',
      linkage: 'static',
      soname: 'libx.so.1',
      rpath: '/opt/r',
      runpath: '$ORIGIN/../lib',
      pie: false
    })
    expect(await parseElfBytes(buildElf({ type: 3, pie: true }))).toMatchObject({ pie: true })
  })
})

describe('files that are not ELF, or not whole', () => {
  it.each([
    ['a shell script', '#!/bin/sh\necho hi\n'],
    ['text', 'just some text that is long enough to fill an ELF header, and then some more'],
    ['an empty file', ''],
    ['three bytes of the magic', '\x7fEL']
  ])('%s → undefined', async (_, text) => {
    expect(await parseElfBytes(Buffer.from(text, 'latin1'))).toBeUndefined()
  })

  it('a cut-off header is damaged', async () => {
    const result = await parseElfBytes(buildElf().subarray(0, 20))
    expect(result).toEqual({ status: 'damaged', reason: expect.stringMatching(/^truncated/) })
  })

  it('cut-off program headers are damaged, with the header still known', async () => {
    const result = await parseElfBytes(buildElf({ bits: 32, machine: EM.ARM }).subarray(0, 70))
    expect(result).toMatchObject({
      status: 'damaged',
      reason: expect.stringContaining('program headers'),
      header: { machine: 'arm', bits: 32 }
    })
  })

  it('a binary cut off in the middle is damaged: its segments run past the end', async () => {
    const head = fs.readFileSync(compiled.staticExec).subarray(0, 4096)
    const result = await parseElfBytes(head)
    expect(result).toMatchObject({
      status: 'damaged',
      reason: expect.stringMatching(/^truncated: a loadable segment ends at byte \d+/),
      header: { machine: 'x86-64' }
    })
  })

  it('a dynamic section without a string table is damaged', async () => {
    const result = await parseElfBytes(buildElf({ needed: ['libc.so.6'], omitStrtab: true }))
    expect(result).toMatchObject({
      status: 'damaged',
      reason: expect.stringContaining('DT_STRTAB')
    })
  })

  it('a string table at an unmapped address is damaged', async () => {
    const result = await parseElfBytes(buildElf({ needed: ['libc.so.6'], unmappedStrtab: true }))
    expect(result).toMatchObject({
      status: 'damaged',
      reason: expect.stringContaining('in no loadable segment')
    })
  })

  it('an unknown ELF class is damaged', async () => {
    const bytes = buildElf()
    bytes[4] = 7
    expect(await parseElfBytes(bytes)).toEqual({
      status: 'damaged',
      reason: 'unknown ELF class 7'
    })
  })
})
