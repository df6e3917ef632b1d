import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { build } from '../../src/build.js'
import { silentLogger } from '../../src/log.js'
import { startFileServer, type FileServer } from '../support/file-server.js'
import { makeProject } from '../support/project.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const REPO = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..')
const OFFLINE = path.join(REPO, 'examples/offline')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

function freshCache() {
  process.env['RUNNER_TOOL_CACHE'] = tmp('fledge-tc-')
  process.env['RUNNER_TEMP'] = newRunnerTemp('build-test')
}

describe('reproducible builds', () => {
  it('same bytes from two checkout folders with different umask, touched mtimes, cold and warm caches', async () => {
    const a = path.join(tmp('fledge-repro-a-'), 'checkout')
    const b = path.join(tmp('fledge-repro-b-'), 'some', 'other', 'place')
    fs.mkdirSync(path.dirname(b), { recursive: true })
    execFileSync('sh', ['-c', `umask 022 && cp -r '${OFFLINE}' '${a}'`])
    execFileSync('sh', ['-c', `umask 077 && cp -r '${OFFLINE}' '${b}' && find '${b}' -exec touch -d '2031-05-05 12:00' {} +`])
    expect(fs.statSync(path.join(b, 'www/index.html')).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.join(a, 'www/index.html')).mode & 0o777).toBe(0o644)

    freshCache()
    const first = await build({ configPath: path.join(a, 'fledge.toml'), outputPath: path.join(a, 'plugin.cpio.gz'), log: silentLogger })
    freshCache() // nothing cached: the C init is compiled again, in another folder
    const second = await build({ configPath: path.join(b, 'fledge.toml'), outputPath: path.join(b, 'out/plugin.cpio.gz'), log: silentLogger, useCache: false })
    expect(second.init?.cacheHit).toBe(false)
    expect(second.archive.sha256).toBe(first.archive.sha256)
    expect(second.archive.contentSha256).toBe(first.archive.contentSha256)
    expect(sha(fs.readFileSync(path.join(b, 'out/plugin.cpio.gz')))).toBe(first.archive.sha256)

    const third = await build({ configPath: path.join(a, 'fledge.toml'), outputPath: path.join(a, 'again.cpio.gz'), log: silentLogger })
    expect(third.archive.sha256).toBe(first.archive.sha256)

    const epoch = await build({ configPath: path.join(a, 'fledge.toml'), outputPath: path.join(a, 'epoch.cpio.gz'), log: silentLogger, sourceDateEpoch: '1700000000' })
    expect(epoch.epoch).toBe(1700000000)
    expect(epoch.archive.sha256).not.toBe(first.archive.sha256)
  })
})

describe('sources and cache', () => {
  let server: FileServer
  const busybox = fs.readFileSync('/bin/busybox')
  const agent = Buffer.from('#!/bin/sh\necho agent\n')
  beforeAll(async () => {
    server = await startFileServer({ '/busybox': busybox, '/kestrel': agent })
  })
  afterAll(() => server.close())

  it('a warm cache makes zero network requests', async () => {
    freshCache()
    const dir = makeProject({
      'fledge.toml': `version = "1"\nstrategy = "initramfs"\n[agent]\nsource_strategy = "http"\nurl = "${server.url}/kestrel"\nchecksum = "sha256:${sha(agent)}"\n[source]\nbusybox_url = "${server.url}/busybox"\nbusybox_sha256 = "${sha(busybox)}"\n`
    })
    const cold = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'a.cpio.gz'), log: silentLogger })
    expect(cold.cacheHit).toBe(false)
    expect(server.requests.sort()).toEqual(['/busybox', '/kestrel'])
    server.requests.length = 0
    const warm = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'b.cpio.gz'), log: silentLogger })
    expect(server.requests).toEqual([])
    expect(warm.cacheHit).toBe(true)
    expect(warm.archive.sha256).toBe(cold.archive.sha256)
  })
})

describe('unprivileged, from the committed bundle alone', () => {
  // A copy of dist/ and c/ with no node_modules anywhere above it: what a
  // runner has after checking out the action.
  const standalone = tmp('fledge-standalone-')
  fs.cpSync(path.join(REPO, 'dist'), path.join(standalone, 'dist'), { recursive: true })
  fs.cpSync(path.join(REPO, 'c'), path.join(standalone, 'c'), { recursive: true })
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(standalone, 'package.json'))
  execFileSync('chmod', ['-R', 'a+rX', standalone])
  const cli = path.join(standalone, 'dist/cli/index.js')

  function asNobody(args: string[], cwd: string) {
    const home = tmp('fledge-nobody-')
    fs.chmodSync(home, 0o777)
    try {
      const stdout = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, cli, ...args], {
        cwd,
        env: { PATH: process.env['PATH'], HOME: home, XDG_CACHE_HOME: home, TMPDIR: home },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      return { code: 0, stdout: stdout.toString(), stderr: '' }
    } catch (error) {
      const e = error as { status: number; stdout: Buffer; stderr: Buffer }
      return { code: e.status, stdout: e.stdout.toString(), stderr: e.stderr.toString() }
    }
  }

  function worldReadableCopy(): string {
    const dir = path.join(tmp('fledge-unpriv-'), 'example')
    fs.chmodSync(path.dirname(dir), 0o777)
    execFileSync('sh', ['-c', `cp -r '${OFFLINE}' '${dir}' && chmod -R a+rwX '${dir}'`])
    return dir
  }

  it('builds an example as a non-root user, identical to the root build', async () => {
    expect(fs.existsSync(cli)).toBe(true)
    const dir = worldReadableCopy()
    const run = asNobody(['build', '-o', 'plugin.cpio.gz'], dir)
    expect(run.stderr).not.toMatch(/error/)
    expect(run.code).toBe(0)
    const built = fs.statSync(path.join(dir, 'plugin.cpio.gz'))
    expect(built.uid).not.toBe(0)
    freshCache()
    const asRoot = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'root.cpio.gz'), log: silentLogger })
    expect(run.stdout).toContain(`checksum:       sha256:${asRoot.archive.sha256}`)
  })

  it('an unreadable source is a clear error that says how to fix it', () => {
    const dir = worldReadableCopy()
    fs.chmodSync(path.join(dir, 'www/index.html'), 0o000)
    const run = asNobody(['build', '-o', 'plugin.cpio.gz'], dir)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error: .*fledge\.toml:\d+:\d+: cannot read mapping source .*www\/index\.html \(permission denied\)\. Fix: make it readable by the build user/)
    expect(fs.existsSync(path.join(dir, 'plugin.cpio.gz'))).toBe(false)
  })
})
