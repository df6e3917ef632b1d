/**
 * `boot --compare`: the image built in each compression, each booted instruction-counted on
 * Debian's cloud kernel (RD_GZIP, RD_ZSTD, RD_LZ4), one table, nothing left in temp folders.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { compareFormats, formatComparison } from '../../src/boot/compare.js'
import { FledgeError } from '../../src/errors.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'
import { fetchTestKernel, testLog } from './fixtures.js'

function compareFolders(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('fledge-compare-'))
}

describe('boot --compare', () => {
  let kernel = ''
  let project = ''

  beforeAll(() => {
    kernel = fetchTestKernel().vmlinuz
    // Some bulk, so that the formats differ in size and unpack time: 2 MB of text-like data.
    const words = Array.from({ length: 3000 }, (_, i) => `w${(i * 7919) % 10007}`)
    const text = Array.from({ length: 260_000 }, (_, i) => words[(i * i) % words.length]).join(' ')
    project = makeProject({
      'fledge.toml': offlineConfig('\n[mappings]\n"data.txt" = "/srv/data.txt"\n'),
      'agent.sh': STAND_IN_AGENT,
      'data.txt': text
    })
  })
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }))

  it('prints one row per format: size, build ms, unpack and start → /init in virtual ms', async () => {
    const before = compareFolders()
    const run = await runCli(['boot', '--compare', '-c', path.join(project, 'fledge.toml'), '--kernel', kernel, '--json'])
    expect(run.stderr).not.toMatch(/^error/m)
    expect(run.code).toBe(0)
    const rows = JSON.parse(run.stdout) as Array<{ format: string; size: number; buildMs: number; buildCpuMs: number; unpackMs: number; startToInitMs: number }>
    expect(rows.map((row) => row.format)).toEqual(['gzip', 'zstd', 'lz4', 'none'])
    const by = Object.fromEntries(rows.map((row) => [row.format, row]))
    for (const row of rows) {
      expect(row.unpackMs).toBeGreaterThan(0)
      expect(row.startToInitMs).toBeGreaterThan(row.unpackMs)
      expect(row.buildMs).toBeGreaterThanOrEqual(0)
      expect(row.buildCpuMs).toBeGreaterThan(0)
    }
    // Sizes: none is the cpio itself; zstd is the smallest, lz4 the largest compressed.
    expect(by['none']?.size).toBeGreaterThan(by['lz4']?.size ?? Infinity)
    expect(by['lz4']?.size).toBeGreaterThan(by['gzip']?.size ?? Infinity)
    expect(by['gzip']?.size).toBeGreaterThan(by['zstd']?.size ?? Infinity)
    // Counted instructions: lz4 and none unpack with fewer than gzip.
    expect(by['lz4']?.unpackMs).toBeLessThan(by['gzip']?.unpackMs ?? 0)
    expect(by['none']?.unpackMs).toBeLessThan(by['gzip']?.unpackMs ?? 0)
    // Nothing left behind: the four images went into one temp folder, now gone.
    expect(compareFolders()).toEqual(before)
    expect(fs.readdirSync(project).sort()).toEqual(['agent.sh', 'data.txt', 'fledge.toml'])
  }, 600_000)

  it('the table names its columns and clocks', () => {
    const table = formatComparison([
      { format: 'gzip', level: 7, size: 18_896_322, sha256: 'a', buildMs: 1770, buildCpuMs: 3660, unpackMs: 887.04, startToInitMs: 2417.5 },
      { format: 'lz4', level: 9, size: 21_500_000, sha256: 'b', buildMs: 900, buildCpuMs: 1700, unpackMs: 250.2, startToInitMs: 1771 },
      { format: 'none', size: 50_100_000, sha256: 'c', buildMs: 300, buildCpuMs: 310, unpackMs: 99, startToInitMs: 1623 }
    ])
    expect(table.split('\n').slice(0, 4)).toEqual([
      'format      size  build ms  build cpu ms  unpack ms  start → /init ms  unpack vs gzip',
      'gzip:7  18.90 MB      1770          3660      887.0            2417.5            100%',
      'lz4:9   21.50 MB       900          1700      250.2            1771.0             28%',
      'none    50.10 MB       300           310       99.0            1623.0             11%'
    ])
    expect(table).toContain('QEMU -icount, 1 ns per guest instruction')
  })

  it('a boot that fails stops the comparison with one sentence naming the format, and cleans up', async () => {
    const before = compareFolders()
    // Not a kernel at all: QEMU refuses it. (A kernel without RD_ZSTD would print
    // "Initramfs unpacking failed", a failure marker the smoke tests cover.)
    const failure = await compareFormats({
      configPath: path.join(project, 'fledge.toml'),
      kernel: path.join(project, 'data.txt'),
      formats: ['zstd'],
      timeoutSeconds: 20,
      log: testLog
    }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(FledgeError)
    expect((failure as FledgeError).message).toMatch(/^the zstd image did not boot: the VM stopped before/)
    expect((failure as FledgeError).fix).toContain('RD_ZSTD=y')
    expect(compareFolders()).toEqual(before)
  }, 120_000)
})
