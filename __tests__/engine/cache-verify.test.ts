// The tool cache is verified on every use and written atomically: through the real
// CLI (in this process, and as 8 separate processes sharing one cache).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { obtainKernel } from '../../src/boot/kernel-source.js'
import { build } from '../../src/build.js'
import { silentLogger } from '../../src/log.js'
import { makeBuildRecord } from '../../src/release/record.js'
import { runCli } from '../support/cli.js'
import { cliScript, removeCliScript } from '../support/cli-process.js'
import { startFileServer, type FileServer } from '../support/file-server.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { HOST_BUSYBOX, makeProject, STAND_IN_AGENT } from '../support/project.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const BUSYBOX = fs.readFileSync(HOST_BUSYBOX)
const AGENT = Buffer.from(STAND_IN_AGENT.data)

let files: FileServer
let github: GitHubServer
beforeAll(async () => {
  files = await startFileServer({ '/busybox': BUSYBOX, '/kestrel': AGENT })
  github = await startGitHubServer()
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v1.2.3', assets: [{ name: 'kestrel', data: AGENT }] })
})
afterAll(async () => {
  removeCliScript()
  await files.close()
  await github.close()
})

type Agent = 'http' | 'release'
const config = (agent: Agent) => `version = "1"
strategy = "initramfs"

[agent]
${
  agent === 'http'
    ? `source_strategy = "http"\nurl = "${files.url}/kestrel"\nchecksum = "sha256:${sha(AGENT)}"`
    : `source_strategy = "release"\nversion = "v1.2.3"`
}

[source]
busybox_url = "${files.url}/busybox"
busybox_sha256 = "${sha(BUSYBOX)}"
`

/** A fresh tool cache and temp folder: a cold machine. */
function machine() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-cache-verify-'))
  const env = {
    RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
    RUNNER_TEMP: path.join(root, 'temp'),
    FLEDGE_RETRY_BASE_MS: '0',
    GITHUB_API_URL: github.url
  }
  return { root, env }
}

async function cliBuild(agent: Agent, env: Record<string, string>) {
  const dir = makeProject({ 'fledge.toml': config(agent) })
  const out = path.join(dir, 'plugin.cpio.gz')
  const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', out], env)
  expect(run.stderr).not.toMatch(/^error:/m)
  expect(run.code).toBe(0)
  return { ...run, sha256: sha(fs.readFileSync(out)) }
}

/** The one file of the tool's single cache entry. */
function cachedFile(toolCache: string, tool: string, name: string): string {
  const versions = fs.readdirSync(path.join(toolCache, tool)).filter((v) => !v.startsWith('.'))
  expect(versions).toHaveLength(1)
  return path.join(toolCache, tool, versions[0]!, 'any', name)
}

const damage = {
  tampered: (file: string) => {
    const bytes = fs.readFileSync(file)
    bytes[bytes.length >> 1] = 0xff - bytes[bytes.length >> 1]!
    fs.writeFileSync(file, bytes)
  },
  truncated: (file: string) => fs.truncateSync(file, fs.statSync(file).size >> 1)
}
const warning = {
  tampered: /does not match its sha256 \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/,
  truncated: /is truncated \(\d+ of \d+ bytes\)/
}

describe('a damaged cache entry is evicted, fetched again once, and the image is unchanged', () => {
  const cases: [string, Agent, string, string, Buffer][] = [
    ['busybox', 'http', 'fledge-busybox', 'busybox', BUSYBOX],
    ['agent (http, pinned)', 'http', 'fledge-agent', 'kestrel', AGENT],
    ['agent (release, checked against the recorded sha256)', 'release', 'fledge-agent-release', 'kestrel', AGENT]
  ]
  for (const [what, agent, tool, name, bytes] of cases) {
    for (const kind of ['tampered', 'truncated'] as const) {
      it(`${kind} ${what}`, async () => {
        const { env } = machine()
        const clean = await cliBuild(agent, env)
        const file = cachedFile(env.RUNNER_TOOL_CACHE, tool, name)
        damage[kind](file)
        const before = { files: files.requests.filter((r) => r === `/${name}`).length, github: github.requests.length }

        const again = await cliBuild(agent, env)
        expect(again.stderr).toContain(`the cached `)
        expect(again.stderr).toContain(` at ${file} `)
        expect(again.stderr).toMatch(warning[kind])
        expect(again.sha256).toBe(clean.sha256)
        expect(fs.readFileSync(file).equals(bytes)).toBe(true)
        if (agent === 'http') expect(files.requests.filter((r) => r === `/${name}`).length - before.files).toBe(tool === 'fledge-busybox' || name === 'kestrel' ? 1 : 0)
        else expect(github.requests.length).toBeGreaterThan(before.github)

        const third = await cliBuild(agent, env)
        expect(third.stderr).not.toMatch(/the cached /)
        expect(third.sha256).toBe(clean.sha256)
      })
    }
  }

  it('the build record reports the sha256 of the bytes packed, not the pin', async () => {
    const { env } = machine()
    await cliBuild('http', env)
    damage.tampered(cachedFile(env.RUNNER_TOOL_CACHE, 'fledge-busybox', 'busybox'))
    damage.tampered(cachedFile(env.RUNNER_TOOL_CACHE, 'fledge-agent', 'kestrel'))
    const dir = makeProject({ 'fledge.toml': config('http') })
    const saved = { cache: process.env['RUNNER_TOOL_CACHE'], temp: process.env['RUNNER_TEMP'] }
    process.env['RUNNER_TOOL_CACHE'] = env.RUNNER_TOOL_CACHE
    process.env['RUNNER_TEMP'] = env.RUNNER_TEMP
    try {
      const result = await build({ configPath: path.join(dir, 'fledge.toml'), outputPath: path.join(dir, 'out.cpio.gz'), log: silentLogger })
      const record = await makeBuildRecord(result, { baseDir: dir })
      expect(record.busybox.sha256).toBe(result.archive.fileDigests.get('bin/busybox'))
      expect(record.busybox.sha256).toBe(sha(BUSYBOX))
      expect(record.agent?.sha256).toBe(result.archive.fileDigests.get('bin/kestrel'))
      expect(record.agent?.sha256).toBe(sha(AGENT))
    } finally {
      process.env['RUNNER_TOOL_CACHE'] = saved.cache
      process.env['RUNNER_TEMP'] = saved.temp
    }
  })

  it('a tampered compiled init is compiled again', async () => {
    const { env } = machine()
    const clean = await cliBuild('http', env)
    const file = cachedFile(env.RUNNER_TOOL_CACHE, 'fledge-init', 'init')
    damage.tampered(file)
    const again = await cliBuild('http', env)
    expect(again.stderr).toMatch(new RegExp(`the cached compiled init at ${file} does not match its sha256`))
    expect(again.sha256).toBe(clean.sha256)
  })
})

it('a truncated cached kernel (smoke test) is evicted and downloaded again', async () => {
  const kernel = Buffer.from('not really a kernel, but pinned\n'.repeat(1000))
  files.routes.set('/vmlinuz', kernel)
  const { env } = machine()
  const saved = process.env['RUNNER_TOOL_CACHE']
  process.env['RUNNER_TOOL_CACHE'] = env.RUNNER_TOOL_CACHE
  const warnings: string[] = []
  const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) }
  try {
    const first = await obtainKernel(`${files.url}/vmlinuz`, `sha256:${sha(kernel)}`, log)
    damage.truncated(first)
    const second = await obtainKernel(`${files.url}/vmlinuz`, `sha256:${sha(kernel)}`, log)
    expect(second).toBe(first)
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^the cached kernel at ${first} is truncated`))])
    expect(fs.readFileSync(second).equals(kernel)).toBe(true)
    expect(files.requests.filter((r) => r === '/vmlinuz')).toHaveLength(2)
  } finally {
    process.env['RUNNER_TOOL_CACHE'] = saved
  }
})

describe('concurrent cold builds sharing one tool cache', () => {
  it('8 separate CLI processes all succeed with identical bytes', async () => {
    const { env, root } = machine()
    const dir = makeProject({ 'fledge.toml': config('release') })
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
    delete childEnv['NODE_OPTIONS']
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, n) => {
        const out = path.join(root, `out-${n}`, 'plugin.cpio.gz')
        return promisify(execFile)(
          process.execPath,
          [cliScript(), 'build', '-c', path.join(dir, 'fledge.toml'), '-o', out],
          { env: childEnv, cwd: REPO }
        ).then(
          (r) => ({ code: 0, stderr: r.stderr, sha256: sha(fs.readFileSync(out)) }),
          (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? String(e), sha256: '' })
        )
      })
    )
    expect(runs.map((r) => (r.code === 0 ? 'ok' : r.stderr))).toEqual(runs.map(() => 'ok'))
    expect(new Set(runs.map((r) => r.sha256)).size).toBe(1)
    // Nothing half-made is left in the cache: no staging or evicted folders.
    for (const tool of fs.readdirSync(env.RUNNER_TOOL_CACHE)) {
      expect(fs.readdirSync(path.join(env.RUNNER_TOOL_CACHE, tool)).filter((n) => n.startsWith('.'))).toEqual([])
    }
  }, 300_000)
})
