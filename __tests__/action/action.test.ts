import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BODY_BEGIN, BODY_END } from '../../src/publish/index.js'
import { screenshotSummary, summaryOutline } from '../support/summary-screenshot.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { volantRelease } from '../support/volant.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const run = promisify(execFile)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const ACTION = path.join(REPO, 'dist/action/index.js')
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

let server: GitHubServer
beforeAll(async () => {
  server = await startGitHubServer()
  // The example's agent (source_strategy = "release") and the smoke test's default kernel
  // (kernel: volant) both come from this volantvm/volant release.
  server.addRelease(volantRelease('v0.6.5', { kernel: true }))
})
afterAll(() => server.close())

interface ActionRun {
  code: number
  outputs: Record<string, string>
  summary: string
  stdout: string
  workspace: string
}

/** A checkout of the http-server example, with a manifest JSON in odd formatting. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-action-ws-'))
  fs.cpSync(path.join(REPO, 'examples/http-server'), dir, { recursive: true })
  fs.rmSync(path.join(dir, 'manifest.toml'))
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    '{\r\n\t"name": "http-server",\r\n\t"runtime":"http-server",   "schema_version": "1.0",\r\n\t"version": "0.0.0-dev",\r\n\t"initramfs": {"checksum": "sha256:' +
      '0'.repeat(64) +
      '", "url": "https://example.invalid/old.cpio.gz"},\r\n\t"resources": { "memory_mb": 256, "cpu_cores": 1 },\r\n\t"workload": {\r\n\t\t"entrypoint": ["/usr/bin/http-server"],\r\n\t\t"type": "http",\r\n\t\t"base_url": "http://127.0.0.1:80"\r\n\t},\r\n\t"health_check": { "endpoint": "/healthz.txt", "timeout_ms": 10000 }\r\n}\r\n'
  )
  return dir
}

async function runAction(
  dir: string,
  event: { name: string; ref: string; payload: object },
  inputs: Record<string, string>
): Promise<ActionRun> {
  const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-runner-'))
  const outputFile = path.join(runner, 'output')
  const summaryFile = path.join(runner, 'summary')
  const eventFile = path.join(runner, 'event.json')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  fs.writeFileSync(eventFile, JSON.stringify(event.payload))
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: runner,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REF: event.ref,
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REPOSITORY: 'volantvm/http-server-plugin',
    GITHUB_SERVER_URL: server.url,
    GITHUB_API_URL: server.url,
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: newRunnerTemp('action'),
    RUNNER_TOOL_CACHE: path.join(runner, 'tool-cache'),
    INPUT_TOKEN: 'test-token',
    // volantvm/volant (agent, volant kernel) is looked up there, not at GITHUB_API_URL.
    'INPUT_AGENT-API-URL': server.url
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  let code = 0
  let stdout: string
  try {
    stdout = (await run(process.execPath, [ACTION], { env, cwd: dir })).stdout
  } catch (error) {
    code = (error as { code: number }).code
    stdout = (error as { stdout: string }).stdout
  }
  return {
    code,
    outputs: parseOutputs(fs.readFileSync(outputFile, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    stdout,
    workspace: dir
  }
}

/** GITHUB_OUTPUT's heredoc format: name<<delimiter\nvalue\ndelimiter */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const pattern = /^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm
  for (const m of text.matchAll(pattern)) outputs[m[1] as string] = m[3] as string
  return outputs
}

const tagPush = (tag: string) => ({
  name: 'push',
  ref: `refs/tags/${tag}`,
  payload: { ref: `refs/tags/${tag}`, repository: { full_name: 'volantvm/http-server-plugin' } }
})
const pullRequest = {
  name: 'pull_request',
  ref: 'refs/pull/7/merge',
  payload: { number: 7, pull_request: { number: 7, head: { repo: { fork: true } } } }
}

describe('the bundled action (dist/action/index.js) as a subprocess', () => {
  it('on a tag push: builds, rewrites the manifest, publishes one release with verified assets', async () => {
    const dir = workspace()
    const before = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')
    const result = await runAction(dir, tagPush('v0.2.0'), {
      manifest: 'manifest.json',
      'version-from-tag': 'true',
      'smoke-test': 'health',
      'max-size': '20MB'
    })
    expect(result.stdout).not.toMatch(/::error::/)
    expect(result.code).toBe(0)
    const o = result.outputs
    const artifact = fs.readFileSync(path.join(dir, 'plugin.cpio.gz'))
    expect(o['sha256']).toBe(sha(artifact))
    expect(o['checksum']).toBe(`sha256:${sha(artifact)}`)
    expect(o['size']).toBe(String(artifact.length))
    expect(o['content-sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(o['agent-version']).toBe('v0.6.5')
    expect(o['artifact-url']).toBe(
      `${server.url}/volantvm/http-server-plugin/releases/download/v0.2.0/plugin.cpio.gz`
    )
    expect(o['manifest-url']).toBe(
      `${server.url}/volantvm/http-server-plugin/releases/download/v0.2.0/manifest.json`
    )
    expect(o['release-url']).toMatch(/releases\/tag\/v0\.2\.0$/)

    // The manifest: only the checksum, url and version values changed (tabs, CRLF, key order kept).
    const after = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')
    const changed = before
      .split('\r\n')
      .map((line, i) => [line, after.split('\r\n')[i]])
      .filter(([a, b]) => a !== b)
    expect(changed).toEqual([
      ['\t"version": "0.0.0-dev",', '\t"version": "0.2.0",'],
      [
        `\t"initramfs": {"checksum": "sha256:${'0'.repeat(64)}", "url": "https://example.invalid/old.cpio.gz"},`,
        `\t"initramfs": {"checksum": "sha256:${sha(artifact)}", "url": "${o['artifact-url']}"},`
      ]
    ])

    const releases = server.releases('volantvm', 'http-server-plugin')
    expect(releases).toHaveLength(1)
    const release = releases[0]!
    expect(release.draft).toBe(false)
    expect(release.assets.map((a) => a.name).sort()).toEqual([
      'SHA256SUMS',
      'manifest.json',
      'plugin.cpio.gz',
      'plugin.cpio.gz.build.json'
    ])
    expect(release.body).toContain(`sha256:${sha(artifact)}`)
    expect(release.body).toContain(`volar plugins install --manifest ${o['manifest-url']}`)

    // Download every asset through the release URLs and check them with sha256sum -c.
    const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-downloads-'))
    for (const asset of release.assets) {
      const response = await fetch(
        `${server.url}/volantvm/http-server-plugin/releases/download/v0.2.0/${asset.name}`
      )
      expect(response.status).toBe(200)
      fs.writeFileSync(path.join(downloads, asset.name), Buffer.from(await response.arrayBuffer()))
    }
    const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: downloads }).toString()
    expect(check.trim().split('\n').sort()).toEqual([
      'manifest.json: OK',
      'plugin.cpio.gz.build.json: OK',
      'plugin.cpio.gz: OK'
    ])
    // The published manifest points at the published image and carries its checksum.
    const published = JSON.parse(
      fs.readFileSync(path.join(downloads, 'manifest.json'), 'utf8')
    ) as { initramfs: { url: string; checksum: string } }
    expect(published.initramfs.checksum).toBe(
      `sha256:${sha(fs.readFileSync(path.join(downloads, 'plugin.cpio.gz')))}`
    )

    expect(result.summary).toContain(sha(artifact))
    // The summary answers first: what happened and where, how to install, did it boot, how big.
    expect(summaryOutline(result.summary)).toEqual([
      '✅ Published http-server v0.2.0',
      'Install',
      'Smoke test',
      'Boot cost',
      'Size',
      'Hashes and inputs',
      'Largest entries',
      expect.stringMatching(/^Full listing \(\d+ entries\)$/)
    ])
    expect(result.summary).toContain(`<a href="${o['release-url']}">`)
    expect(result.summary).toContain(`volar plugins install --manifest ${o['manifest-url']}`)
    expect(result.summary).toMatch(/<b>Smoke test<\/b>: ✅ booted \((tcg|kvm)\): marker after \d+ ms, workload healthy at \d+ ms, agent ready at \d+ ms/)
    expect(result.summary).toMatch(/<b>Size<\/b>: [\d.]+ MB \([\d.]+ MB uncompressed, \d+ entries\), \d+% of the 20\.00 MB budget/)
    const shot = screenshotSummary(result.summary, 'tag-run')
    expect([shot.width, shot.height]).toEqual([1012, 1300])
    expect(fs.statSync(shot.png).size).toBeGreaterThan(20_000)
    expect(server.violations).toEqual([])

    // A re-run of the same job (author edited the notes in between): still one release,
    // one copy of each asset, the author's text kept outside the marked block.
    const id = release.id
    release.body = `Author's intro.\n\n${release.body}\n\nAuthor's footer.`
    const rerun = await runAction(workspace(), tagPush('v0.2.0'), {
      manifest: 'manifest.json',
      'version-from-tag': 'true'
    })
    expect(rerun.code).toBe(0)
    const again = server.releases('volantvm', 'http-server-plugin')
    expect(again).toHaveLength(1)
    expect(again[0]!.id).toBe(id)
    expect(again[0]!.assets.map((a) => a.name).sort()).toEqual([
      'SHA256SUMS',
      'manifest.json',
      'plugin.cpio.gz',
      'plugin.cpio.gz.build.json'
    ])
    expect(again[0]!.body).toMatch(
      new RegExp(
        `^Author's intro\\.\\n\\n${BODY_BEGIN}[\\s\\S]*${BODY_END}\\n\\nAuthor's footer\\.$`
      )
    )
    expect((again[0]!.body ?? '').split(BODY_BEGIN)).toHaveLength(2)
    expect(rerun.outputs['sha256']).toBe(o['sha256'])
    expect(server.violations).toEqual([])
  })

  it('on a pull request: builds and summarizes, makes zero write requests, needs no tag', async () => {
    const mark = server.requests.length
    const dir = workspace()
    fs.appendFileSync(path.join(dir, 'payload/www/index.html'), '<p>changed in this PR</p>\n')
    // smoke-test: health with the default kernel: Volant's bzImage from the agent's release.
    const result = await runAction(dir, pullRequest, {
      manifest: 'manifest.json',
      publish: 'true',
      'smoke-test': 'health',
      'boot-timeout': '120'
    })
    expect(result.stdout).toMatch(/boot test kernel: Volant's bzImage of volantvm\/volant@v0\.6\.5/)
    expect(result.stdout).toMatch(/ready when kestrel's \/healthz on guest port 8080 answers 200/)
    expect(result.stdout).toMatch(
      /boot test passed \((tcg|kvm)\): marker after \d+ ms, workload healthy at \d+ ms, agent ready at \d+ ms/
    )
    expect(result.code).toBe(0)
    expect(result.outputs['sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(result.outputs['release-url']).toBe('')
    expect(result.summary).toContain('<p>a pull_request event never publishes')
    expect(result.outputs['health-ms']).toMatch(/^\d+$/)
    // From the kernel's log: the unpack, and /init → kestrel's first line.
    expect(Number(result.outputs['unpack-ms'])).toBeGreaterThan(0)
    expect(Number(result.outputs['init-to-agent-ms'])).toBeGreaterThan(0)
    expect(server.requests.slice(mark).filter((r) => r.method !== 'GET')).toEqual([])
    // The summary shows what the PR changes in the image against the latest release (v0.2.0 above).
    expect(result.summary).toContain('Changes against v0.2.0')
    expect(result.summary).toMatch(/~ \/srv\/www\/index\.html: size \d+ → \d+ \(\+26\)/)
    // Answer first, then what the PR changes, then the details folded away.
    expect(summaryOutline(result.summary)).toEqual([
      '🔨 Built plugin.cpio.gz; not published',
      'Smoke test',
      'Boot cost',
      'Size',
      'Changes against v0.2.0',
      'Hashes and inputs',
      'Largest entries',
      expect.stringMatching(/^Full listing \(\d+ entries\)$/)
    ])
    expect(result.summary).toMatch(/<b>Smoke test<\/b>: ✅ booted \((tcg|kvm)\): marker after \d+ ms, workload healthy at \d+ ms, agent ready at \d+ ms/)
    const shot = screenshotSummary(result.summary, 'pr-run')
    expect(fs.statSync(shot.png).size).toBeGreaterThan(20_000)
  })

  it('a bad config fails the step with an annotation naming the file and line', async () => {
    const dir = workspace()
    fs.appendFileSync(path.join(dir, 'fledge.toml'), '\n[init]\nmappings = { "x" = "/init" }\n')
    const result = await runAction(dir, pullRequest, {})
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(
      /::error file=fledge\.toml,line=\d+,col=\d+::.*init\.mappings: unknown key/
    )
  })
})
