import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseConfig } from '../../src/config/load.js'
import type { Entry } from '../../src/image/entry.js'
import { validateImage } from '../../src/image/validate.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

/** Images the kernel cannot start are refused at build time, through the real CLI. */

const HEAD = 'version = "1"\nstrategy = "initramfs"\n'
const BUSYBOX = '[source]\nbusybox_url = "file:///bin/busybox"\n'

async function build(files: Parameters<typeof makeProject>[0]) {
  const dir = makeProject(files)
  const out = path.join(dir, 'out', 'plugin.cpio.gz')
  const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', out])
  return { dir, run, built: fs.existsSync(out) }
}

function theError(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.startsWith('error:'))
  expect(lines).toHaveLength(1)
  return lines[0] as string
}

describe('/init must be an executable file, in every mode', () => {
  it('none mode: a text file (0644) mapped to /init is refused, naming the mapping and its line', async () => {
    const { dir, run, built } = await build({
      'fledge.toml': `${HEAD}[init]\nnone = true\n${BUSYBOX}[mappings]\n"init.txt" = "/init"\n`,
      'init.txt': { data: 'start the workload\n', mode: 0o644 }
    })
    expect(run.code).toBe(1)
    expect(built).toBe(false)
    expect(theError(run.stderr)).toBe(
      `error: ${dir}/fledge.toml:8:1: /init (mapping "init.txt") is not executable (mode 0644); the kernel could not run it ("Failed to execute /init") and would start /bin/sh or panic instead. ` +
        `Fix: make the source executable (chmod +x ${dir}/init.txt): a mapped file keeps its execute bit.`
    )
  })

  it('default mode: a mapping that replaces the C init with a 0644 file is refused too', async () => {
    const { run, built } = await build({
      'fledge.toml': offlineConfig('[mappings]\n"my-init" = "/init"\n'),
      'agent.sh': STAND_IN_AGENT,
      'my-init': { data: '#!/bin/sh\n', mode: 0o644 }
    })
    expect(run.code).toBe(1)
    expect(built).toBe(false)
    expect(theError(run.stderr)).toMatch(/\/init \(mapping "my-init"\) is not executable \(mode 0644\)/)
  })

  it('custom mode, in-image path: the program the C init starts must be executable', async () => {
    const { run, built } = await build({
      'fledge.toml': `${HEAD}[init]\npath = "/opt/app/start"\n${BUSYBOX}[mappings]\n"start" = "/opt/app/start"\n`,
      start: { data: '#!/bin/sh\n', mode: 0o644 }
    })
    expect(run.code).toBe(1)
    expect(built).toBe(false)
    expect(theError(run.stderr)).toMatch(
      /fledge\.toml:8:1: \/opt\/app\/start \(mapping "start"\) is not executable \(mode 0644\); the init could not start it \(init\.path = "\/opt\/app\/start"\)\. Fix: make the source executable/
    )
  })

  it('the same projects build once the file is executable', async () => {
    const { run, built } = await build({
      'fledge.toml': `${HEAD}[init]\nnone = true\n${BUSYBOX}[mappings]\n"init.sh" = "/init"\n`,
      'init.sh': { data: '#!/bin/sh\nexec /bin/sh\n', mode: 0o755 }
    })
    expect(run.stderr).not.toMatch(/error/)
    expect(run.code).toBe(0)
    expect(built).toBe(true)
  })

  it('a /init symlink must resolve inside the image to an executable file', () => {
    const dir = makeProject({})
    const config = parseConfig(Buffer.from(`${HEAD}[init]\nnone = true\n`), path.join(dir, 'fledge.toml'))
    const entry = (p: string, type: Entry['type'], extra: Partial<Entry> = {}): Entry => ({ path: p, type, mode: 0o755, uid: 0, gid: 0, origin: 'test', ...extra })
    const image = (init: Entry, ...rest: Entry[]) => () => validateImage([entry('.', 'dir'), entry('sbin', 'dir'), ...rest, init], config)
    const link = (target: string) => entry('init', 'symlink', { mode: 0o777, target })
    const app = (mode: number) => entry('sbin/app', 'file', { mode, source: { kind: 'bytes', data: new Uint8Array(1) } })
    expect(image(link('/sbin/app'), app(0o755))).not.toThrow()
    expect(image(link('sbin/app'), app(0o644))).toThrow(/\/init \(test\) is not executable \(mode 0644\)/)
    expect(image(link('/usr/sbin/gone'))).toThrow(/\/init \(test\) is a symlink to "\/usr\/sbin\/gone", which leads to nothing in the image/)
    expect(image(link('/sbin'))).toThrow(/\/init \(test\) is a folder \(through its symlink\)/)
    expect(image(entry('init', 'fifo', { mode: 0o755 }))).toThrow(/\/init \(test\) is a fifo;/)
  })
})

describe('/bin/busybox and /bin/kestrel replaced by a mapping must be ELF executables', () => {
  it('a text file mapped over /bin/busybox fails, naming the mapping', async () => {
    const { run, built } = await build({
      'fledge.toml': offlineConfig('[mappings]\n"busybox.txt" = "/bin/busybox"\n'),
      'agent.sh': STAND_IN_AGENT,
      'busybox.txt': 'not busybox\n'
    })
    expect(run.code).toBe(1)
    expect(built).toBe(false)
    expect(theError(run.stderr)).toMatch(
      /^error: \/bin\/busybox \(mapping "busybox\.txt"\) replaces busybox with something that is not an ELF executable for x86-64; \/bin\/sh and every other busybox applet would fail to run\. Fix: map a static busybox built for x86-64/
    )
  })

  it('a script mapped over /bin/kestrel fails, naming the mapping', async () => {
    const { run } = await build({
      'fledge.toml': offlineConfig('[mappings]\n"kestrel.sh" = "/bin/kestrel"\n'),
      'agent.sh': STAND_IN_AGENT,
      'kestrel.sh': { data: '#!/bin/sh\n', mode: 0o755 }
    })
    expect(run.code).toBe(1)
    expect(theError(run.stderr)).toMatch(/\/bin\/kestrel \(mapping "kestrel\.sh"\) replaces kestrel with something that is not an ELF executable/)
  })
})

describe('the binary check judges what can run', () => {
  it('a dynamically linked ELF copied as data (0644, under /srv) builds, with at most a note', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig('[mappings]\n"blob" = "/srv/blob"\n'), 'agent.sh': STAND_IN_AGENT })
    fs.copyFileSync('/bin/ls', path.join(dir, 'blob'))
    fs.chmodSync(path.join(dir, 'blob'), 0o644)
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'plugin.cpio.gz')])
    expect(run.stderr).not.toMatch(/error|running it would fail/)
    expect(run.stderr).toMatch(/note: \/srv\/blob \(mapping "blob"\) is an ELF program without an execute bit \(mode 0644\)/)
    expect(run.code).toBe(0)
    fs.chmodSync(path.join(dir, 'blob'), 0o755)
    const executable = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'plugin.cpio.gz')])
    expect(executable.code).toBe(1)
    expect(executable.stderr).toMatch(/\/srv\/blob \(mapping "blob"\) is dynamically linked, but the image lacks .*running it would fail/)
  })
})
