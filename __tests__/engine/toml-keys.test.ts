import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FledgeError, FledgeErrors } from '../../src/errors.js'
import { generateManifestFromToml } from '../../src/manifest/generate.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

/** Keys are printed as keys whatever their name, and cannot reach Object.prototype. */

const HEAD = 'version = "1"\nstrategy = "initramfs"\n'

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '')
}

describe('fledge.toml keys named like Object members', () => {
  it('__proto__ and constructor are reported as unknown keys, at their line, and pollute nothing', async () => {
    const dir = makeProject({
      'fledge.toml': `${HEAD}__proto__ = 1\nconstructor = 2\n[init]\nconstructor = 1\n[agent]\nsource_strategy = "release"\nversion = "latest"\n__proto__ = 3\n[toString]\npolluted = true\n`
    })
    const run = await runCli(['validate', '-c', path.join(dir, 'fledge.toml')])
    expect(run.code).toBe(1)
    const lines = errorLines(run.stderr.replace(/^error: /, ''))
    expect(run.stderr).not.toMatch(/\[object Object\]|function Object|native code/)
    expect(lines).toEqual([
      expect.stringMatching(/fledge\.toml:3:1: __proto__: unknown key\. Fix: remove it; known keys in the top level: version, /),
      expect.stringMatching(/fledge\.toml:4:1: constructor: unknown key\. Fix: remove it; known keys in the top level/),
      expect.stringMatching(/fledge\.toml:11:1: toString: unknown key\. Fix: remove it/),
      expect.stringMatching(/fledge\.toml:10:1: agent\.__proto__: unknown key\. Fix: remove it; known keys in \[agent\]: source_strategy/),
      expect.stringMatching(/fledge\.toml:6:1: init\.constructor: unknown key\. Fix: remove it; known keys in \[init\]: path, none\./)
    ])
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('a [__proto__] table and mapping sources named __proto__ / constructor build as plain names', async () => {
    const dir = makeProject({
      'fledge.toml': offlineConfig('[mappings]\n"__proto__" = "/etc/proto"\n"constructor" = "/etc/ctor"\n'),
      'agent.sh': STAND_IN_AGENT,
      __proto__: 'p',
      constructor: 'c'
    })
    const run = await runCli(['validate', '-c', path.join(dir, 'fledge.toml')])
    expect(run.stderr).toBe('')
    expect(run.stdout).toMatch(/ok \(default init, 2 mappings\)/)
    const bad = makeProject({ 'fledge.toml': `${HEAD}[__proto__]\npolluted = true\n[mappings]\n"constructor" = "relative"\n` })
    const failed = await runCli(['validate', '-c', path.join(bad, 'fledge.toml')])
    expect(errorLines(failed.stderr.replace(/^error: /, ''))).toEqual([
      expect.stringMatching(/fledge\.toml:3:1: __proto__: unknown key\./),
      expect.stringMatching(/fledge\.toml:6:1: mappings\.constructor: destination "relative" is not absolute\. Fix: start it with '\/', e\.g\. "\/relative"\./)
    ])
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('keys with dots, spaces or control characters are quoted and escaped, one line each', async () => {
    const dir = makeProject({ 'fledge.toml': `${HEAD}[mappings]\n"a\\nb" = "x"\n"sp ace.d" = "y"\n"\\u001b[31mred" = "z"\n` })
    const run = await runCli(['validate', '-c', path.join(dir, 'fledge.toml')])
    const lines = errorLines(run.stderr.replace(/^error: /, ''))
    expect(lines).toHaveLength(3)
    expect(lines[0]).toContain('fledge.toml:4:1: mappings."a\\nb": destination "x" is not absolute.')
    expect(lines[1]).toContain('fledge.toml:5:1: mappings."sp ace.d": destination "y" is not absolute.')
    expect(lines[2]).toContain('fledge.toml:6:1: mappings."\\u001b[31mred": destination "z" is not absolute.')
    expect(run.stderr).not.toContain('\u001b')
  })
})

describe('mapping sources in messages', () => {
  it('are escaped and cut wherever a mapping is named', async () => {
    const long = 'L'.repeat(5000)
    const dir = makeProject({
      'fledge.toml': offlineConfig(`[mappings]\n"a\\u001b[2J" = "/etc/x"\n"${long}" = "/etc/x"\n"missing\\nname" = "/etc/y"\n`),
      'agent.sh': STAND_IN_AGENT,
      'a\u001b[2J': 'a',
      [long.slice(0, 200)]: 'not the same name'
    })
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'plugin.cpio.gz')])
    expect(run.code).toBe(1)
    expect(run.stderr).not.toContain('\u001b')
    expect(run.stderr.length).toBeLessThan(2000)
    expect(run.stderr).toMatch(/error: .*fledge\.toml:12:1: cannot read mapping source .*\/L{20,}… \(5\d{3} bytes\): the name is too long/)

    const clash = makeProject({
      'fledge.toml': offlineConfig('[mappings]\n"a\\u001b[2J" = "/etc/x"\n"b" = "/etc/x"\n'),
      'agent.sh': STAND_IN_AGENT,
      'a\u001b[2J': 'a',
      b: 'b'
    })
    const twice = await runCli(['build', '-c', path.join(clash, 'fledge.toml'), '-o', path.join(clash, 'plugin.cpio.gz')])
    expect(twice.stderr).toContain('two mappings write /etc/x: mapping "a\\u001b[2J" and mapping "b".')
    expect(twice.stderr).not.toContain('\u001b')
  })
})

describe('manifest.toml keys named like Object members', () => {
  const artifact = { url: 'https://example.com/plugin.cpio.gz', checksum: 'a'.repeat(64) }
  const MINIMAL = 'name = "app"\nversion = "0.1.0"\nruntime = "app"\n[workload]\nentrypoint = "/usr/bin/app"\nbase_url = "http://127.0.0.1:80"\n'

  function failures(toml: string): string[] {
    try {
      generateManifestFromToml(toml, 'manifest.toml', artifact)
    } catch (error) {
      if (error instanceof FledgeErrors) return error.errors.map((e) => e.format())
      if (error instanceof FledgeError) return [error.format()]
      throw error
    }
    throw new Error('expected a failure')
  }

  it('unknown __proto__ / constructor keys are named with line:column', () => {
    const lines = failures(`${MINIMAL}__proto__ = 1\n[resources]\nconstructor = 2\n`)
    expect(lines).toEqual([
      expect.stringMatching(/^manifest\.toml:9:1: resources\.constructor: unknown key\. Fix: use one of: cpu_cores, memory_mb\./),
      expect.stringMatching(/^manifest\.toml:7:1: workload\.__proto__: unknown key\. Fix: use one of: type, entrypoint/)
    ])
  })

  it('an error in the second [[network.expose]] points at its own line', () => {
    const lines = failures(`${MINIMAL}[[network.expose]]\nport = 80\n[[network.expose]]\nport = 70000\n`)
    expect(lines).toEqual([expect.stringMatching(/^manifest\.toml:10:1: network\.expose\[1\]\.port: must be between 1 and 65535, not 70000\./)])
  })

  it('a table where a string belongs is named, not a crash (TOML tables have no prototype)', () => {
    const lines = failures(`${MINIMAL}[labels]\nteam = "a"\n[labels.sub]\nx = 1\n[env]\nA = [1]\n`)
    expect(lines).toEqual([
      expect.stringMatching(/^manifest\.toml:12:1: env\.A: must be a string, not a list\. Fix: write A = "…" \(a string\)\./),
      expect.stringMatching(/^manifest\.toml:9:1: labels\.sub: must be a string, not a table\. Fix: write sub = "…" \(a string\)\./)
    ])
  })

  it('a label named __proto__ is a label, not a prototype', () => {
    const { manifest, json } = generateManifestFromToml(`${MINIMAL}[labels]\n__proto__ = "x"\nconstructor = "y"\n`, 'manifest.toml', artifact)
    expect(JSON.parse(json).labels).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'))
    expect(Object.getPrototypeOf(manifest['labels'])).not.toBe('x')
    expect(({} as Record<string, unknown>)['x']).toBeUndefined()
  })

  it('a long value is echoed cut, with its length', () => {
    const lines = failures(MINIMAL.replace('"http://127.0.0.1:80"', `"${'h'.repeat(100_000)}"`))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^manifest\.toml:6:1: workload\.base_url: "h{199}… \(100002 bytes\) is not an http/)
    expect((lines[0] as string).length).toBeLessThan(700)
  })

  it('manifest.toml through the CLI build: a FIFO template is refused, naming it', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig(), 'agent.sh': STAND_IN_AGENT })
    const fifo = path.join(dir, 'manifest.toml')
    const { execFileSync } = await import('node:child_process')
    execFileSync('mkfifo', [fifo])
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-m', fifo, '-o', path.join(dir, 'plugin.cpio.gz')])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: manifest template .*manifest\.toml is a FIFO \(named pipe\), not a regular file\. Fix: pass the path of a regular file\./)
    expect(fs.existsSync(fifo)).toBe(true)
  })
})
