import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startFileServer, type FileServer } from '../support/file-server.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

let files: FileServer
let github: GitHubServer
beforeAll(async () => {
  files = await startFileServer({ '/busybox': fs.readFileSync('/bin/busybox') })
  github = await startGitHubServer()
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v1.0.0', assets: [{ name: 'checksums.txt', data: Buffer.from('x') }] })
})
afterAll(async () => {
  await files.close()
  await github.close()
})

const HEAD = 'version = "1"\nstrategy = "initramfs"\n'

/**
 * Builds the project and expects a failure: exit 1, one `error:` line that
 * names the cause and the fix, and no output file (or temp file) left behind.
 */
async function expectBuildFailure(files: Record<string, Parameters<typeof makeProject>[0][string]>, pattern: RegExp, env: Record<string, string> = {}) {
  const dir = makeProject(files)
  const out = path.join(dir, 'out', 'plugin.cpio.gz')
  const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', out], {
    FLEDGE_RETRY_BASE_MS: '0',
    GITHUB_API_URL: github.url,
    ...env
  })
  expect(run.code).toBe(1)
  const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('error:'))
  expect(errorLines).toHaveLength(1)
  expect(errorLines[0]).toMatch(pattern)
  expect(errorLines[0]).toMatch(/ Fix: \S/)
  const left = fs.existsSync(path.dirname(out)) ? fs.readdirSync(path.dirname(out)) : []
  expect(left).toEqual([])
  expect(run.stdout).toBe('')
}

describe('bad input: a clear one-line cause and fix, exit 1, nothing written', () => {
  it('malformed TOML', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}[agent\n` }, /fledge\.toml:3:\d+: invalid TOML/))

  it('unknown key', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}compression = "xz"\n` }, /fledge\.toml:3:1: compression: unknown key/))

  it('mappings under [init]', () =>
    expectBuildFailure(
      { 'fledge.toml': `${HEAD}[init]\nnone = true\nmappings = { "./x" = "/init" }\n` },
      /fledge\.toml:5:1: init\.mappings: unknown key.*Move it to its own \[mappings\] table/
    ))

  it('missing version', () =>
    expectBuildFailure({ 'fledge.toml': 'strategy = "initramfs"\n' }, /version: 'version' field is required/))

  it('wrong strategy', () =>
    expectBuildFailure({ 'fledge.toml': 'version = "1"\nstrategy = "disk"\n' }, /fledge\.toml:2:1: strategy: unknown strategy "disk"/))

  it('oci_rootfs', () =>
    expectBuildFailure({ 'fledge.toml': 'version = "1"\nstrategy = "oci_rootfs"\n' }, /builds initramfs images/))

  it('init none + path', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}[init]\nnone = true\npath = "./x"\n` }, /'none' and 'path' cannot be used together/))

  it('[agent] in custom mode', () =>
    expectBuildFailure(
      { 'fledge.toml': `${HEAD}[init]\npath = "./x"\n[agent]\nsource_strategy = "local"\npath = "a"\n` },
      /agent: \[agent\] is not allowed in custom init mode/
    ))

  it('[agent] in none mode', () =>
    expectBuildFailure(
      { 'fledge.toml': `${HEAD}[init]\nnone = true\n[agent]\nsource_strategy = "local"\npath = "a"\n` },
      /agent: \[agent\] is not allowed in none init mode/
    ))

  it('agent strategy without its field', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}[agent]\nsource_strategy = "http"\n` }, /agent\.url: source_strategy "http" requires 'url'/))

  it('relative destination', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}[mappings]\n"a" = "etc/a"\n` }, /mappings\.a: destination "etc\/a" is not absolute/))

  it('.. in a destination', () =>
    expectBuildFailure({ 'fledge.toml': `${HEAD}[mappings]\n"a" = "/etc/../../a"\n` }, /contains '\.\.'/))

  it('missing source file', () =>
    expectBuildFailure(
      { 'fledge.toml': offlineConfig('[mappings]\n"payload/app" = "/usr/bin/app"\n'), 'agent.sh': STAND_IN_AGENT },
      /fledge\.toml:\d+:1: mapping source not found: .*payload\/app/
    ))

  it('two mappings to one destination', () =>
    expectBuildFailure(
      { 'fledge.toml': offlineConfig('[mappings]\n"a" = "/etc/x"\n"b" = "/etc/x"\n'), 'agent.sh': STAND_IN_AGENT, a: 'a', b: 'b' },
      /two mappings write \/etc\/x: mapping "a" and mapping "b"/
    ))

  it('busybox checksum mismatch', () =>
    expectBuildFailure(
      {
        'fledge.toml': `${HEAD}[init]\nnone = true\n[source]\nbusybox_url = "${files.url}/busybox"\nbusybox_sha256 = "${'a'.repeat(64)}"\n`
      },
      /sha256 mismatch for busybox/
    ))

  it('404 on a download', () =>
    expectBuildFailure(
      { 'fledge.toml': `${HEAD}[init]\nnone = true\n[source]\nbusybox_url = "${files.url}/missing"\n` },
      /could not download busybox from .*\/missing: HTTP 404/
    ))

  it('agent asset missing from the release', () =>
    expectBuildFailure(
      {
        'fledge.toml': `${HEAD}[agent]\nsource_strategy = "release"\nversion = "v1.0.0"\n[source]\nbusybox_url = "file:///bin/busybox"\n`
      },
      /release v1\.0\.0 of volantvm\/volant has no asset named "kestrel" \(it has: checksums\.txt\)/
    ))

  it('a file of 4 GiB or more (sparse)', async () => {
    const dir = makeProject({})
    const big = path.join(dir, 'huge.bin')
    fs.writeFileSync(big, '')
    fs.truncateSync(big, 2 ** 32)
    await expectBuildFailure(
      { 'fledge.toml': offlineConfig(`[mappings]\n"${big}" = "/data/huge.bin"\n`), 'agent.sh': STAND_IN_AGENT },
      /huge\.bin is 4294967296 bytes; an initramfs \(newc cpio\) cannot hold a file of 4 GiB or more/
    )
  })

  it('a name of 4096 bytes or more', () =>
    expectBuildFailure(
      { 'fledge.toml': offlineConfig(`[mappings]\n"a" = "/${'d/'.repeat(2100)}a"\n`), 'agent.sh': STAND_IN_AGENT, a: 'a' },
      /bytes long; the kernel skips names of 4096 bytes or more/
    ))

  it('bad SOURCE_DATE_EPOCH', () =>
    expectBuildFailure(
      { 'fledge.toml': offlineConfig(), 'agent.sh': STAND_IN_AGENT },
      /SOURCE_DATE_EPOCH: 'last tuesday' is not a valid timestamp/,
      { SOURCE_DATE_EPOCH: 'last tuesday' }
    ))

  it('usage errors exit 2', async () => {
    expect((await runCli(['build', '--bogus'])).code).toBe(2)
    expect((await runCli(['frobnicate'])).code).toBe(2)
    expect((await runCli(['inspect'])).code).toBe(2)
  })
})

describe('validate', () => {
  it('exit 0 for a good config, 1 with every problem for a bad one', async () => {
    const good = makeProject({ 'fledge.toml': offlineConfig() })
    const ok = await runCli(['validate', '-c', path.join(good, 'fledge.toml')])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/ok \(default init, 0 mappings\)/)
    const bad = makeProject({ 'fledge.toml': 'strategy = "x"\n[agent]\nsource_strategy = "nope"\n' })
    const run = await runCli(['validate', '-c', path.join(bad, 'fledge.toml')])
    expect(run.code).toBe(1)
    expect(run.stderr.match(/fledge\.toml/g)).toHaveLength(3)
  })
})

describe('source errors point at fledge.toml', () => {
  it('a missing local agent names the file, line and key', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig().replace('path = "agent.sh"', 'path = "bin/kestrel"') })
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'out.cpio.gz')])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: .*fledge\.toml:6:1: agent\.path: agent file not found: .*bin\/kestrel\. Fix: /)
  })
})
