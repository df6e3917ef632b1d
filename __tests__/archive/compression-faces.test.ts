/**
 * The compression choice through both faces and back: the Action's input,
 * the CLI's flag with an explicit -o, `verify` rebuilding in the recorded
 * compression (and saying so when a record differs), `diff` across formats.
 */
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readInputs } from '../../src/action/inputs.js'
import { formatError } from '../../src/errors.js'
import { runActionInProcess } from '../support/action.js'
import { runCli } from '../support/cli.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-faces-'))

describe('Action input compression', () => {
  const read = (set: Record<string, string>) => readInputs((name) => set[name] ?? '')

  it('defaults to gzip and plugin.cpio.gz; the output name follows the format unless given', () => {
    expect(read({})).toMatchObject({ compression: { format: 'gzip' }, output: 'plugin.cpio.gz' })
    expect(read({ compression: 'zstd:19' })).toMatchObject({ compression: { format: 'zstd', level: 19 }, output: 'plugin.cpio.zst' })
    expect(read({ compression: 'lz4' })).toMatchObject({ compression: { format: 'lz4' }, output: 'plugin.cpio.lz4' })
    expect(read({ compression: 'none' })).toMatchObject({ compression: { format: 'none' }, output: 'plugin.cpio' })
    expect(read({ compression: 'lz4', output: 'dist/image.lz4' })).toMatchObject({ output: 'dist/image.lz4' })
  })

  it('a bad value names the input, the cause and the fix', () => {
    let error: unknown
    try {
      read({ compression: 'brotli' })
    } catch (e) {
      error = e
    }
    expect(formatError(error)).toBe(
      'input compression: unknown compression "brotli". Fix: use one of gzip, zstd, lz4, none, optionally with a level after a colon (e.g. zstd:19, lz4:1, gzip:9).'
    )
  })
})

describe('the Action with compression: lz4', () => {
  it('writes plugin.cpio.lz4 (lz4 legacy), reports it as the artifact and records the compression', async () => {
    const workspace = path.join(tmp(), 'checkout')
    fs.cpSync(path.join(REPO, 'examples/offline'), workspace, { recursive: true })
    const run = await runActionInProcess(workspace, { compression: 'lz4' })
    expect(run.stdout).not.toMatch(/::error/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs['artifact']).toBe(path.join(workspace, 'plugin.cpio.lz4'))
    const bytes = fs.readFileSync(path.join(workspace, 'plugin.cpio.lz4'))
    expect(bytes.subarray(0, 4).toString('hex')).toBe('02214c18')
    const record = JSON.parse(fs.readFileSync(path.join(workspace, 'plugin.cpio.lz4.build.json'), 'utf8')) as { outputs: { compression: unknown } }
    expect(record.outputs.compression).toEqual({ format: 'lz4', level: 5 })
  })
})

describe('CLI --compression', () => {
  it('with -o, builds that format under that name; verify rebuilds it in the recorded compression; diff reads across formats', async () => {
    const dir = path.join(tmp(), 'checkout')
    fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
    const zst = path.join(dir, 'image.zst')
    const built = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', zst, '--compression', 'zstd:7'])
    expect(built.stderr).not.toMatch(/^error/m)
    expect(built.code).toBe(0)
    expect(built.stdout).toContain('compression:    zstd level 7')
    expect(fs.readFileSync(zst).subarray(0, 4).toString('hex')).toBe('28b52ffd')
    const record = JSON.parse(fs.readFileSync(`${zst}.build.json`, 'utf8')) as { outputs: { compression: unknown } }
    expect(record.outputs.compression).toEqual({ format: 'zstd', level: 7 })

    const ok = await runCli(['verify', zst, '--record', `${zst}.build.json`])
    expect(ok.stdout).toMatch(/^match: the rebuild gives the same bytes/)
    expect(ok.code).toBe(0)

    // A record that names another compression than the image was made with: the rebuild follows
    // the record, the bytes differ, and the difference is named.
    const edited = { ...record, outputs: { ...record.outputs, compression: { format: 'zstd', level: 3 } } }
    fs.writeFileSync(path.join(dir, 'edited.json'), JSON.stringify(edited))
    const bad = await runCli(['verify', zst, '--record', path.join(dir, 'edited.json')])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^mismatch: /)
    expect(bad.stdout).toMatch(/same content \(cpio sha256 [0-9a-f]{64}\), different compression: recorded with fledge-action \S+ on node v[\d.]+ \(zstd level 3\), rebuilt with \S+ on node v[\d.]+ \(zstd level 3\)/)

    const lz4 = path.join(dir, 'image.lz4')
    expect((await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', lz4, '--compression', 'lz4', '--no-record', '--no-sums'])).code).toBe(0)
    const diff = await runCli(['diff', zst, lz4, '--json'])
    expect(diff.code).toBe(0)
    expect(JSON.parse(diff.stdout)).toEqual({ added: [], removed: [], changed: [] })
  })

  it('a bad --compression is a one-sentence error with the fix, and nothing is written', async () => {
    const dir = path.join(tmp(), 'checkout')
    fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
    const before = fs.readdirSync(dir).sort()
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'x.zst'), '--compression', 'zstd:22'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error: --compression: zstd level "22" is out of range\. Fix: use a level from 1 to 19 \(zstd:5 is the default\)/)
    expect(fs.readdirSync(dir).sort()).toEqual(before)
  })
})
