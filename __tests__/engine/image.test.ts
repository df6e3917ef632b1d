import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseConfig } from '../../src/config/load.js'
import { FledgeError } from '../../src/errors.js'
import { assembleImage, planInit, type ImageInputs } from '../../src/image/assemble.js'
import { BUSYBOX_APPLETS, FHS_DIRS } from '../../src/image/layout.js'
import { mappedFileMode } from '../../src/image/modes.js'
import { makeProject } from '../support/project.js'

const HEAD = 'version = "1"\nstrategy = "initramfs"\n'

async function assemble(dir: string, toml: string) {
  fs.writeFileSync(path.join(dir, 'fledge.toml'), toml)
  const config = parseConfig(Buffer.from(toml), path.join(dir, 'fledge.toml'))
  const plan = await planInit(config)
  const fake = (name: string) => {
    const file = path.join(dir, `.fake-${name}`)
    fs.writeFileSync(file, name)
    return { path: file, size: name.length }
  }
  const inputs: ImageInputs = { busybox: fake('busybox') }
  if (plan.kind === 'c-init') inputs.cInit = fake('init')
  if (config.agent) inputs.agent = fake('kestrel')
  return { plan, image: await assembleImage(config, plan, inputs) }
}

const byPath = <T extends { path: string }>(entries: T[]) => new Map(entries.map((e) => [e.path, e]))

describe('mapped file modes (fledge\'s rules, in order)', () => {
  it.each([
    ['/etc/app/config.yaml', 0o644, 0o644, 'plain file'],
    ['/etc/app/run.sh', 0o755, 0o755, 'source has an execute bit'],
    ['/etc/app/run.sh', 0o700, 0o755, 'umask-restricted executable is normalized like git'],
    ['/etc/app/secret', 0o600, 0o644, 'umask-restricted plain file is normalized like git'],
    ['/usr/bin/app', 0o644, 0o755, 'destination under /usr/bin'],
    ['/usr/local/sbin/tool', 0o644, 0o755, 'destination under /usr/local/sbin'],
    ['/opt/bin/tool', 0o644, 0o755, 'destination under /opt/bin'],
    ['/bin', 0o644, 0o755, 'exactly an executable folder'],
    ['/usr/lib/libfoo.so', 0o644, 0o755, '.so under a lib folder'],
    ['/lib64/libc.so.6', 0o644, 0o755, 'contains .so. under a lib folder'],
    ['/usr/lib/libfoo.a', 0o644, 0o644, 'static archive in a lib folder'],
    ['/etc/libfoo.so', 0o644, 0o644, '.so outside the lib folders'],
    ['/usr/binaries/x', 0o644, 0o644, 'a folder that only starts like /usr/bin']
  ])('%s from %o → %o (%s)', (destination, source, expected) => {
    expect(mappedFileMode(destination, source)).toBe(expected)
  })
})

describe('assembled image', () => {
  it('default mode: FHS dirs, busybox + exact applets, device nodes, C init, agent; parents first, sorted', async () => {
    const dir = makeProject({ 'payload/app': 'x', 'payload/conf/a.yaml': 'a', 'payload/conf/sub/b.yaml': 'b' })
    fs.symlinkSync('a.yaml', path.join(dir, 'payload/conf/link'))
    const { image } = await assemble(dir, `${HEAD}[mappings]\n"payload/app" = "/usr/bin/app"\n"payload/conf" = "/etc/app"\n`)
    const entries = byPath(image.entries)
    for (const d of FHS_DIRS) expect(entries.get(d.slice(1))?.type).toBe('dir')
    expect(entries.get('.')).toMatchObject({ type: 'dir', mode: 0o755 })
    expect(entries.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 })
    const applets = image.entries.filter((e) => e.origin === 'busybox applet')
    expect(applets.map((e) => e.path.slice(4)).sort()).toEqual([...BUSYBOX_APPLETS].sort())
    expect(applets.every((e) => e.type === 'symlink' && e.target === 'busybox')).toBe(true)
    expect(entries.get('dev/console')).toMatchObject({ type: 'char', mode: 0o600, rdev: { major: 5, minor: 1 } })
    expect(entries.get('dev/null')).toMatchObject({ type: 'char', mode: 0o666, rdev: { major: 1, minor: 3 } })
    expect(entries.get('init')).toMatchObject({ type: 'file', mode: 0o755, origin: 'C init' })
    expect(entries.get('bin/kestrel')).toMatchObject({ type: 'file', mode: 0o755 })
    expect(entries.get('usr/bin/app')).toMatchObject({ type: 'file', mode: 0o755 })
    expect(entries.get('etc/app/sub/b.yaml')).toMatchObject({ type: 'file', mode: 0o644 })
    expect(entries.get('etc/app/link')).toMatchObject({ type: 'symlink', target: 'a.yaml' })
    expect(entries.has('.volant_init')).toBe(false)
    // byte-wise order, root first, every parent before its children
    const paths = image.entries.map((e) => e.path)
    expect(paths[0]).toBe('.')
    expect(paths.slice(1)).toEqual([...paths.slice(1)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    for (const [i, p] of paths.entries()) {
      if (p.includes('/')) expect(paths.indexOf(p.slice(0, p.lastIndexOf('/')))).toBeLessThan(i)
    }
    expect(new Set(paths).size).toBe(paths.length)
  })

  it('custom mode, host reading: the file next to fledge.toml becomes /init; no agent', async () => {
    const dir = makeProject({ 'my-init': '#!/bin/sh\n' })
    const { plan, image } = await assemble(dir, `${HEAD}[init]\npath = "./my-init"\n`)
    expect(plan).toEqual({ kind: 'host-file', hostPath: path.join(dir, 'my-init'), size: 10 })
    const init = byPath(image.entries).get('init')
    expect(init).toMatchObject({ mode: 0o755, source: { kind: 'path', path: path.join(dir, 'my-init') } })
    expect(byPath(image.entries).has('bin/kestrel')).toBe(false)
  })

  it('custom mode, seeds\' style: init.path copied to /init and also mapped there → allowed and reported', async () => {
    const dir = makeProject({ 'my-init': { data: '#!/bin/sh\n', mode: 0o755 } })
    const { image } = await assemble(dir, `${HEAD}[init]\npath = "./my-init"\n[mappings]\n"./my-init" = "/init"\n`)
    expect(image.replacements).toEqual([{ path: '/init', replaced: 'init.path', by: 'mapping "./my-init"' }])
  })

  it('custom mode, in-image reading: C init at /init plus /.volant_init naming the mapped path', async () => {
    const dir = makeProject({ 'init.sh': { data: '#!/bin/sh\n', mode: 0o755 } })
    const { plan, image } = await assemble(
      dir,
      `${HEAD}[init]\npath = "/usr/local/bin/my-init.sh"\n[mappings]\n"init.sh" = "/usr/local/bin/my-init.sh"\n`
    )
    expect(plan).toEqual({ kind: 'c-init', exec: 'custom', imagePath: '/usr/local/bin/my-init.sh' })
    const entries = byPath(image.entries)
    expect(entries.get('init')?.origin).toBe('C init')
    const pointer = entries.get('.volant_init')
    expect(pointer?.source?.kind === 'bytes' && Buffer.from(pointer.source.data).toString()).toBe('/usr/local/bin/my-init.sh\n')
  })

  it('custom mode: a path that is neither on the host nor mapped names both readings', async () => {
    const dir = makeProject({})
    await expect(assemble(dir, `${HEAD}[init]\npath = "/sbin/missing"\n`)).rejects.toThrow(
      /neither a file next to fledge\.toml .* nor an absolute path that a mapping puts into the image/
    )
  })

  it('none mode: nothing is added for init; a mapped /init passes, none fails', async () => {
    const dir = makeProject({ supervisor: { data: '#!/bin/sh\n', mode: 0o755 } })
    const ok = await assemble(dir, `${HEAD}[init]\nnone = true\n[mappings]\n"supervisor" = "/init"\n`)
    expect(byPath(ok.image.entries).get('init')?.origin).toBe('mapping "supervisor"')
    expect(byPath(ok.image.entries).has('bin/kestrel')).toBe(false)
    const error = await assemble(dir, `${HEAD}[init]\nnone = true\n`).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(
      /fledge\.toml: init: the image has no \/init: the kernel would panic at boot.*Fix: with \[init\] none = true, map your own init program to "\/init"/
    )
  })

  it('two mappings to one destination → error naming both', async () => {
    const dir = makeProject({ a: 'a', b: 'b' })
    await expect(assemble(dir, `${HEAD}[mappings]\n"a" = "/etc/x"\n"b" = "/etc/x/"\n`)).rejects.toThrow(
      'two mappings write /etc/x: mapping "a" and mapping "b"'
    )
  })

  it('a mapped folder colliding with another mapping → error naming both', async () => {
    const dir = makeProject({ 'conf/x': '1', other: '2' })
    await expect(assemble(dir, `${HEAD}[mappings]\n"conf" = "/etc/app"\n"other" = "/etc/app/x"\n`)).rejects.toThrow(
      /two mappings write \/etc\/app\/x: mapping "conf" and mapping "other"/
    )
  })

  it('a mapping replacing a generated entry (an applet) is allowed and reported', async () => {
    const dir = makeProject({ mysh: '#!/bin/x\n' })
    const { image } = await assemble(dir, `${HEAD}[mappings]\n"mysh" = "/bin/sh"\n`)
    expect(image.replacements).toEqual([{ path: '/bin/sh', replaced: 'busybox applet', by: 'mapping "mysh"' }])
    expect(byPath(image.entries).get('bin/sh')?.type).toBe('file')
  })

  it('a file over a generated folder is refused', async () => {
    const dir = makeProject({ f: 'x' })
    await expect(assemble(dir, `${HEAD}[mappings]\n"f" = "/usr/bin"\n`)).rejects.toThrow(
      /would put a file at \/usr\/bin, where base layout has a folder/
    )
  })

  it('missing source names the config line and the fix', async () => {
    const dir = makeProject({})
    const error = await assemble(dir, `${HEAD}[mappings]\n"payload/nope" = "/usr/bin/nope"\n`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).format()).toMatch(
      /fledge\.toml:4:1: mapping source not found: .*payload\/nope\. Fix: sources are relative to the folder of fledge\.toml/
    )
  })
})
