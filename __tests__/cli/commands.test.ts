import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from '../../src/build.js'
import { silentLogger } from '../../src/log.js'
import { fetchTestKernel, type TestKernel } from '../boot/fixtures.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-cli-'))

describe('diff', () => {
  it('lists added, removed and changed entries with size and mode changes', async () => {
    const dir = makeProject({
      'fledge.toml': offlineConfig('[mappings]\n"a.txt" = "/etc/a.txt"\n"b.txt" = "/etc/b.txt"\n'),
      'agent.sh': STAND_IN_AGENT,
      'a.txt': 'one',
      'b.txt': 'two'
    })
    const old = path.join(dir, 'old.cpio.gz')
    await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: old, log: silentLogger })
    fs.writeFileSync(path.join(dir, 'a.txt'), 'one, longer')
    fs.writeFileSync(path.join(dir, 'c.sh'), '#!/bin/sh\n')
    fs.writeFileSync(path.join(dir, 'fledge.toml'), offlineConfig('[mappings]\n"a.txt" = "/etc/a.txt"\n"c.sh" = "/usr/bin/c"\n'))
    const next = path.join(dir, 'new.cpio.gz')
    await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: next, log: silentLogger })
    const run = await runCli(['diff', old, next])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('+ /usr/bin/c (file, 0755, 10 bytes)')
    expect(run.stdout).toContain('- /etc/b.txt (file, 0644, 3 bytes)')
    expect(run.stdout).toContain('~ /etc/a.txt: size 3 → 11 (+8)')
    expect(run.stdout).toMatch(/1 added, 1 removed, 1 changed/)
    const same = await runCli(['diff', old, old, '--json'])
    expect(JSON.parse(same.stdout)).toEqual({ added: [], removed: [], changed: [] })
  })
})

describe('verify', () => {
  it('build writes the image, its record and SHA256SUMS; verify from another folder says match; after changing a mapped file, names it', async () => {
    const dir = path.join(tmp(), 'checkout')
    fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
    const out = path.join(dir, 'plugin.cpio.gz')
    const built = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', out])
    expect(built.code).toBe(0)
    const recordFile = `${out}.build.json`
    expect(built.stdout).toContain(`build record:   ${recordFile}`)
    expect(fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}plugin\.cpio\.gz\n[0-9a-f]{64} {2}plugin\.cpio\.gz\.build\.json\n$/)
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }).toString()).toBe('plugin.cpio.gz: OK\nplugin.cpio.gz.build.json: OK\n')

    const cwd = process.cwd()
    process.chdir(tmp())
    try {
      const ok = await runCli(['verify', out, '--record', recordFile])
      expect(ok.stdout).toMatch(/^match: the rebuild gives the same bytes/)
      expect(ok.code).toBe(0)
      fs.writeFileSync(path.join(dir, 'www/index.html'), 'tampered\n')
      const bad = await runCli(['verify', out, '--record', recordFile])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(/^mismatch: /)
      expect(bad.stdout).toMatch(/mapped \/srv\/www\/index\.html \(from www\/index\.html\): recorded file 0644 sha256 [0-9a-f]{64}, rebuilt file 0644 sha256 [0-9a-f]{64}/)
    } finally {
      process.chdir(cwd)
    }
  })

  it('--no-record and --no-sums leave only the image', async () => {
    const dir = path.join(tmp(), 'checkout')
    fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
    const before = fs.readdirSync(dir).sort()
    const built = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'plugin.cpio.gz'), '--no-record', '--no-sums'])
    expect(built.code).toBe(0)
    expect(fs.readdirSync(dir).sort()).toEqual([...before, 'plugin.cpio.gz'].sort())
  })
})

describe('boot', () => {
  let kernel: TestKernel
  let good: string
  beforeAll(async () => {
    kernel = fetchTestKernel()
    good = path.join(tmp(), 'good.cpio.gz')
    await build({ configPath: path.join(REPO, 'examples/offline/fledge.toml'), outputPath: good, log: silentLogger })
  })

  it('a good image boots: marker found, console printed with --console', async () => {
    const run = await runCli(['boot', good, '--kernel', kernel.vmlinuz, '--expect', 'fledge-example: agent started', '--console'])
    expect(run.stderr).not.toMatch(/^error/m)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('fledge-example: agent started')
    expect(run.stdout).toMatch(/booted \((tcg|kvm)\): marker after \d+ ms/)
  })

  it('an image without /init fails with the kernel\'s reason and the console tail', async () => {
    const dir = tmp()
    fs.mkdirSync(path.join(dir, 'root/etc'), { recursive: true })
    const broken = path.join(dir, 'no-init.cpio.gz')
    execFileSync('sh', ['-c', `cd '${dir}/root' && find . | cpio -o -H newc --quiet | gzip -9n > '${broken}'`])
    const run = await runCli(['boot', broken, '--kernel', kernel.vmlinuz, '--timeout', '60'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: boot smoke test failed .*(Kernel panic|No working init|Failed to execute \/init)/)
    expect(run.stdout).toMatch(/Kernel panic|No working init/)
  })

  it('a manifest too large for the kernel command line is refused before launch', async () => {
    const manifestFile = path.join(tmp(), 'big.json')
    const noise = Array.from({ length: 300 }, (_, i) => [`K${i}`, `${(i * 7919).toString(36)}-${(i * 104729).toString(36)}`])
    fs.writeFileSync(manifestFile, JSON.stringify({ name: 'big', workload: { env: Object.fromEntries(noise) } }))
    const run = await runCli(['boot', good, '--kernel', kernel.vmlinuz, '--manifest', manifestFile])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: .*2048/)
  })

  it('an agent that is a dynamic binary is refused at build time with what is missing', async () => {
    const dir = makeProject({ 'hello.c': 'int main(void){return 0;}\n' })
    execFileSync('gcc', ['-o', path.join(dir, 'kestrel'), path.join(dir, 'hello.c')])
    fs.writeFileSync(path.join(dir, 'fledge.toml'), offlineConfig().replace('path = "agent.sh"', 'path = "kestrel"'))
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'out.cpio.gz')])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: \/bin\/kestrel \(agent \(kestrel\)\) is dynamically linked, but the image lacks its interpreter \/lib64\/ld-linux-x86-64\.so\.2 and the library libc\.so\.6/)
    expect(run.stderr).toMatch(/Fix: build it statically/)
  })
})
