// HTTP like a browser (redirects, relative ones too), bounded like a server (redirect
// count, size, deadline, disk). Through the real CLI where a user would meet it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { resolveBusybox } from '../../src/sources/busybox.js'
import type { NetworkOptions } from '../../src/sources/http.js'
import { runCli } from '../support/cli.js'
import { startFileServer, type FileServer } from '../support/file-server.js'
import { HOST_BUSYBOX, makeProject, STAND_IN_AGENT } from '../support/project.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const BUSYBOX = fs.readFileSync(HOST_BUSYBOX)

let files: FileServer
let disk: string
beforeAll(async () => {
  files = await startFileServer({
    '/busybox': BUSYBOX,
    '/moved': { redirect: '/files/../busybox' },
    '/hop/1': { redirect: '2' },
    '/hop/2': { redirect: '/moved' },
    '/loop': { redirect: '/loop' },
    '/chunked': { chunked: BUSYBOX },
    '/repos/volantvm/volant/releases/tags/v1.0.0': {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '<!DOCTYPE html><html><body>Sign in to the proxy</body></html>'
    }
  })
  // A 1 MiB disk: smaller than busybox, so writing it fails with ENOSPC.
  disk = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-full-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'pipe' })
  } catch (error) {
    throw new Error(
      `could not mount a 1 MiB tmpfs on ${disk} for the full-disk tests (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}). ` +
        'Run the tests as root (or with CAP_SYS_ADMIN), as .ci/run does in its container.',
      { cause: error }
    )
  }
})
afterAll(async () => {
  await files.close()
  execFileSync('umount', [disk])
  fs.rmdirSync(disk)
})

const config = (busyboxPath: string, pinned = true) => `version = "1"
strategy = "initramfs"

[agent]
source_strategy = "local"
path = "agent.sh"

[source]
busybox_url = "${files.url}${busyboxPath}"
${pinned ? `busybox_sha256 = "${sha(BUSYBOX)}"` : ''}
`

/** A cold build of a project whose busybox comes from `busyboxPath` on the file server. */
async function cliBuild(busyboxPath: string, env: Record<string, string> = {}, pinned = true) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-http-'))
  const dir = makeProject({ 'fledge.toml': config(busyboxPath, pinned), 'agent.sh': STAND_IN_AGENT })
  const out = path.join(dir, 'out', 'plugin.cpio.gz')
  const temp = path.join(root, 'temp')
  const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', out], {
    RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
    RUNNER_TEMP: temp,
    FLEDGE_RETRY_BASE_MS: '0',
    ...env
  })
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'))
  return { ...run, errors, out, temp: env['RUNNER_TEMP'] ?? temp }
}

/** Exit 1, one error line matching `pattern` with a fix, no output, nothing left in the temp folder. */
function expectFailure(run: Awaited<ReturnType<typeof cliBuild>>, pattern: RegExp) {
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toMatch(pattern)
  expect(run.errors[0]).toMatch(/ Fix: \S/)
  expect(run.code).toBe(1)
  expect(fs.existsSync(run.out)).toBe(false)
  expect(fs.existsSync(run.temp) ? fs.readdirSync(run.temp) : []).toEqual([])
}

const count = (p: string) => files.requests.filter((r) => r === p).length

describe('redirects', () => {
  it('follows relative redirects (a path, and one relative to the current folder)', async () => {
    const run = await cliBuild('/hop/1')
    expect(run.errors).toEqual([])
    expect(run.code).toBe(0)
    expect(fs.existsSync(run.out)).toBe(true)
  })

  it('a redirect loop stops after 10 redirects, naming the URL', async () => {
    const before = count('/loop')
    const run = await cliBuild('/loop')
    expectFailure(run, new RegExp(`too many redirects \\(more than 10\\) from ${files.url}/loop\\b`))
    expect(count('/loop') - before).toBe(11)
  })
})

describe('download size limit (FLEDGE_MAX_DOWNLOAD_BYTES)', () => {
  const limit = { FLEDGE_MAX_DOWNLOAD_BYTES: '1000000' }

  it('refuses a Content-Length above the limit before reading the body, without retrying', async () => {
    const before = count('/busybox')
    const run = await cliBuild('/busybox', limit)
    expectFailure(run, /busybox from http:\S+\/busybox is 1\.9 MiB, more than the 1000000 bytes a download may be\..*FLEDGE_MAX_DOWNLOAD_BYTES/)
    expect(count('/busybox') - before).toBe(1)
  })

  it('stops a body without Content-Length once it passes the limit', async () => {
    const run = await cliBuild('/chunked', limit)
    expectFailure(run, /busybox from http:\S+\/chunked is more than 1000000 bytes, more than the 1000000 bytes a download may be/)
  })

  it('the default limit lets a real busybox through', async () => {
    const run = await cliBuild('/chunked')
    expect(run.errors).toEqual([])
    expect(run.code).toBe(0)
  })
})

describe('a full disk is reported as a full disk, naming the folder', () => {
  it('while writing the download into the temp folder', async () => {
    const run = await cliBuild('/busybox', { RUNNER_TEMP: disk })
    expectFailure(run, new RegExp(`the disk is full: could not write busybox to ${disk}/busybox-\\w+ \\(ENOSPC\\)\\. Fix: free space .*RUNNER_TEMP`))
    expect(run.stderr).not.toMatch(/network/)
  })

  it('while storing it in the tool cache', async () => {
    const run = await cliBuild('/busybox', { RUNNER_TOOL_CACHE: disk })
    expectFailure(run, new RegExp(`the disk is full: could not write busybox to ${disk} \\(ENOSPC\\)\\. Fix: free space .*RUNNER_TOOL_CACHE`))
    // No half entry: busybox is not in the cache, nothing staged is left (the small init fit).
    const left = fs.readdirSync(disk, { recursive: true }).map(String)
    expect(left.filter((p) => p.startsWith('fledge-busybox/0.0.0-') || p.includes('.staging') || p.includes('.evicted'))).toEqual([])
  })
})

it('HTML where the release JSON was expected says what was expected from which URL', async () => {
  const dir = makeProject({
    'fledge.toml': `version = "1"\nstrategy = "initramfs"\n\n[agent]\nsource_strategy = "release"\nversion = "v1.0.0"\n\n[source]\nbusybox_url = "file://${HOST_BUSYBOX}"\n`
  })
  const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', path.join(dir, 'out.cpio.gz')], {
    GITHUB_API_URL: files.url,
    FLEDGE_RETRY_BASE_MS: '0'
  })
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error:'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(
    new RegExp(`fledge\\.toml:\\d+:\\d+: agent\\.version: expected JSON from ${files.url}/repos/volantvm/volant/releases/tags/v1\\.0\\.0, got text/html instead \\("<!DOCTYPE html><html><body>Sign in to the proxy</body></html…"\\)\\. Fix: `)
  )
  expect(errors[0]).not.toMatch(/Unexpected token|SyntaxError/)
})

describe('retries (engine)', () => {
  const network: NetworkOptions = { attempts: 3, retryBaseMs: 0, idleTimeoutMs: 5000, deadlineMs: 30_000 }
  const warnings: string[] = []
  const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) }

  it('waits as long as a Retry-After HTTP date says', async () => {
    // HTTP dates have whole seconds: two seconds ahead is a wait of 1–2 s.
    const retryAt = new Date(Date.now() + 2000).toUTCString()
    files.routes.set('/later', [{ status: 503, headers: { 'retry-after': retryAt } }, BUSYBOX])
    warnings.length = 0
    const got = await resolveBusybox({ url: `${files.url}/later`, sha256: sha(BUSYBOX), pinned: true }, { log, network, useCache: false })
    expect(got.sha256).toBe(sha(BUSYBOX))
    expect(warnings).toHaveLength(1)
    // "retrying in 1.6 s", or "in 870 ms" when the run was slow to get there.
    const [, amount, unit] = /retrying in ([\d.]+) (ms|s)\b/.exec(warnings[0]!) ?? []
    const waited = Number(amount) / (unit === 'ms' ? 1000 : 1)
    // The backoff base is 0: any wait at all came from the header.
    expect(waited).toBeGreaterThan(0)
    expect(waited).toBeLessThanOrEqual(2)
    fs.rmSync(path.dirname(got.path), { recursive: true })
  })

  it('a server that stops sending is given up on after the idle timeout, and retried', async () => {
    files.routes.set('/stalls', { trickle: { length: BUSYBOX.length, everyMs: 60_000 } })
    const error = await resolveBusybox(
      { url: `${files.url}/stalls`, sha256: sha(BUSYBOX), pinned: true },
      { log: silentLogger, network: { ...network, attempts: 2, idleTimeoutMs: 300 }, useCache: false }
    ).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(
      new RegExp(`could not download busybox from ${files.url}/stalls: no data from 127\\.0\\.0\\.1:\\d+ for 0\\.3 s \\(gave up after 2 attempts\\)\\. Fix: `)
    )
    expect(count('/stalls')).toBe(2)
  }, 10_000)

  it('the deadline stops a trickling transfer in flight, not only between tries', async () => {
    files.routes.set('/slow', { trickle: { length: BUSYBOX.length, everyMs: 20 } })
    const error = await resolveBusybox(
      { url: `${files.url}/slow`, sha256: sha(BUSYBOX), pinned: true },
      { log: silentLogger, network: { ...network, deadlineMs: 800 }, useCache: false }
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).format()).toMatch(
      new RegExp(`could not download busybox from ${files.url}/slow: did not finish within 800 ms \\(all attempts included\\)\\. Fix: `)
    )
    // The request was aborted: the server saw the client hang up.
    for (let i = 0; i < 50 && !files.hungUp.includes('/slow'); i++) await new Promise((r) => setTimeout(r, 20))
    expect(files.hungUp).toContain('/slow')
    expect(count('/slow')).toBe(1)
  }, 10_000)
})
