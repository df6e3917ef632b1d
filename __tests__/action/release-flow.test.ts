// The Action (from source, in this process) against the OpenAPI-checked loopback GitHub:
// it changes only what the author asked for, takes tags as people write them, uploads to
// the release of a `release` event, and says why a run published nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BODY_BEGIN } from '../../src/publish/release-body.js'
import { OFFLINE_MANIFEST_TOML as MANIFEST_TOML, runActionInProcess, type InProcessActionRun } from '../support/action.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OWNER = 'volantvm'


let server: GitHubServer
beforeAll(async () => {
  server = await startGitHubServer()
})
afterEach(() => {
  expect(server.violations).toEqual([])
})
afterAll(() => server.close())

/** The offline example (no network needed to build) with a manifest template. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-release-flow-'))
  fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'manifest.toml'), MANIFEST_TOML)
  return dir
}

/** Runs the Action in `repo` (default inputs but the ones given) for `event`. */
async function runIn(
  repo: string,
  inputs: Record<string, string>,
  event: Record<string, string>
): Promise<InProcessActionRun> {
  const run = await runActionInProcess(
    workspace(),
    { publish: 'auto', ...inputs },
    {
      GITHUB_SERVER_URL: server.url,
      GITHUB_API_URL: server.url,
      GITHUB_REPOSITORY: `${OWNER}/${repo}`,
      ...event
    }
  )
  return run
}

const tagPush = (tag: string) => ({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: `refs/tags/${tag}` })

async function latestTag(repo: string): Promise<string> {
  const response = await fetch(`${server.url}/repos/${OWNER}/${repo}/releases/latest`)
  return ((await response.json()) as { tag_name: string }).tag_name
}

/** The JSON of the release updates the run sent (PATCH …/releases/{id}). */
function updatesTo(repo: string, since: number): Record<string, unknown>[] {
  return server.requests
    .slice(since)
    .filter((r) => r.operationId === 'repos/update-release' && r.path.includes(`/${repo}/`))
    .map((r) => r.json as Record<string, unknown>)
}

function succeeded(run: InProcessActionRun): void {
  expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toEqual([])
  expect(run.exitCode).toBe(0)
}

describe('Latest stays with the highest version unless make-latest is set', () => {
  it('publishing v1.0.1 after v2.0.0 leaves v2.0.0 Latest', async () => {
    const repo = 'patch-after-major'
    server.addRelease({ owner: OWNER, repo, tag: 'v2.0.0' })
    expect(await latestTag(repo)).toBe('v2.0.0')
    const run = await runIn(repo, {}, tagPush('v1.0.1'))
    succeeded(run)
    const v101 = server.releases(OWNER, repo).find((r) => r.tagName === 'v1.0.1')
    expect(v101).toMatchObject({ draft: false, prerelease: false })
    expect(v101?.assets.map((a) => a.name)).toContain('plugin.cpio.gz')
    expect(await latestTag(repo)).toBe('v2.0.0')
    expect(run.stdout).toContain('Not making v1.0.1 Latest: v2.0.0 is a higher version')
  })

  it('a re-run of v1.0.0 leaves v2.0.0 Latest and sends no flag', async () => {
    const repo = 'rerun-old-tag'
    server.addRelease({ owner: OWNER, repo, tag: 'v1.0.0' })
    server.addRelease({ owner: OWNER, repo, tag: 'v2.0.0' })
    const since = server.requests.length
    succeeded(await runIn(repo, {}, tagPush('v1.0.0')))
    expect(await latestTag(repo)).toBe('v2.0.0')
    const updates = updatesTo(repo, since)
    expect(updates).toHaveLength(1)
    expect(Object.keys(updates[0] ?? {})).toEqual(['body'])
  })

  it('a new highest version becomes Latest', async () => {
    const repo = 'new-major'
    server.addRelease({ owner: OWNER, repo, tag: 'v1.0.0' })
    succeeded(await runIn(repo, {}, tagPush('v1.1.0')))
    expect(await latestTag(repo)).toBe('v1.1.0')
  })
})

describe('a release a person made keeps what they set', () => {
  it('a pre-release keeps its flag, name and body; only our block is added', async () => {
    const repo = 'person-prerelease'
    server.addRelease({ owner: OWNER, repo, tag: 'v1.0.0' })
    server.addRelease({
      owner: OWNER,
      repo,
      tag: 'v1.1.0-rc.1',
      prerelease: true,
      name: 'RC one',
      body: 'Try the RC, tell us.'
    })
    const since = server.requests.length
    succeeded(await runIn(repo, {}, tagPush('v1.1.0-rc.1')))
    const rc = server.releases(OWNER, repo).find((r) => r.tagName === 'v1.1.0-rc.1')
    expect(rc).toMatchObject({ prerelease: true, draft: false, name: 'RC one' })
    expect(rc?.body?.startsWith('Try the RC, tell us.')).toBe(true)
    expect(rc?.body).toContain(BODY_BEGIN)
    expect(await latestTag(repo)).toBe('v1.0.0')
    expect(updatesTo(repo, since).map((u) => Object.keys(u))).toEqual([['body']])
  })

  it('explicit inputs are sent, false included', async () => {
    const repo = 'explicit-flags'
    server.addRelease({ owner: OWNER, repo, tag: 'v1.0.0-rc.1', prerelease: true })
    const since = server.requests.length
    succeeded(await runIn(repo, { prerelease: 'false', 'make-latest': 'true' }, tagPush('v1.0.0-rc.1')))
    expect(updatesTo(repo, since)[0]).toMatchObject({ prerelease: false, make_latest: 'true' })
    expect(await latestTag(repo)).toBe('v1.0.0-rc.1')
  })
})

describe('tags as people write them', () => {
  it('tag: refs/tags/v3.0.0 (${{ github.ref }}) releases v3.0.0 with working URLs', async () => {
    const repo = 'ref-tag'
    const run = await runIn(repo, { publish: 'true', tag: 'refs/tags/v3.0.0' }, {})
    succeeded(run)
    expect(server.releases(OWNER, repo).map((r) => r.tagName)).toEqual(['v3.0.0'])
    expect(run.outputs['manifest-url']).toBe(
      `${server.url}/${OWNER}/${repo}/releases/download/v3.0.0/plugin.cpio.gz.manifest.json`
    )
    const manifest = JSON.parse(fs.readFileSync(run.outputs['manifest'] as string, 'utf8')) as {
      initramfs: { url: string }
    }
    expect(manifest.initramfs.url).toBe(`${server.url}/${OWNER}/${repo}/releases/download/v3.0.0/plugin.cpio.gz`)
    expect((await fetch(manifest.initramfs.url)).status).toBe(200)
  })

  it('tag: refs/heads/x is refused with the fix, before anything is built or published', async () => {
    const repo = 'branch-ref'
    const run = await runIn(repo, { publish: 'true', tag: 'refs/heads/x' }, {})
    expect(run.exitCode).toBe(1)
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/input tag is "refs\/heads\/x", a ref that is not a tag\..*Fix: set tag to a tag name such as v1\.2\.0/)
    expect(server.releases(OWNER, repo)).toEqual([])
  })
})

describe('release events', () => {
  it('release: published uploads to that release, and leaves its flags, name and text', async () => {
    const repo = 'release-event'
    const release = server.addRelease({
      owner: OWNER,
      repo,
      tag: 'v4.0.0',
      prerelease: true,
      name: 'Four',
      body: 'Written by hand.'
    })
    const eventFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-event-')), 'event.json')
    fs.writeFileSync(
      eventFile,
      JSON.stringify({ action: 'published', release: { id: release.id, tag_name: 'v4.0.0', draft: false } })
    )
    const since = server.requests.length
    const run = await runIn(repo, {}, { GITHUB_EVENT_NAME: 'release', GITHUB_REF: 'refs/tags/v4.0.0', GITHUB_EVENT_PATH: eventFile })
    succeeded(run)
    const after = server.releases(OWNER, repo)
    expect(after).toHaveLength(1)
    expect(after[0]).toMatchObject({ id: release.id, prerelease: true, draft: false, name: 'Four' })
    expect(after[0]?.assets.map((a) => a.name).sort()).toEqual(
      ['SHA256SUMS', 'plugin.cpio.gz', 'plugin.cpio.gz.build.json', 'plugin.cpio.gz.manifest.json'].sort()
    )
    expect(after[0]?.body?.startsWith('Written by hand.')).toBe(true)
    const writes = server.requests.slice(since).filter((r) => r.method !== 'GET')
    expect(writes.map((r) => r.operationId)).not.toContain('repos/create-release')
    expect(updatesTo(repo, since).map((u) => Object.keys(u))).toEqual([['body']])
    expect(run.outputs['release-id']).toBe(String(release.id))
    expect(run.summary).toContain(`<h2>✅ Added offline to release v4.0.0</h2>\n<p><a href="${server.url}/${OWNER}/${repo}/releases/tag/v4.0.0">`)
  })
})

describe('a run that publishes nothing says why, and how to publish', () => {
  it('workflow_dispatch with publish: auto', async () => {
    const repo = 'dispatch'
    const run = await runIn(repo, {}, { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REF: 'refs/heads/main' })
    succeeded(run)
    const why =
      "a workflow_dispatch run on refs/heads/main is not a tag push or release event, so publish: auto publishes nothing. To publish: push a tag (on: push: tags: ['v*']), create a release (on: release: types: [published]), or set publish: true and tag."
    expect(run.stdout.split('\n')).toContain(`Not publishing: ${why}`)
    expect(run.summary).toContain(`<h2>🔨 Built plugin.cpio.gz; not published</h2>\n<p>${why}</p>`)
    expect(server.releases(OWNER, repo)).toEqual([])
  })
})
