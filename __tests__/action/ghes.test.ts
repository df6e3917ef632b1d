// GitHub Enterprise Server: the plugin's releases go to GITHUB_API_URL (API under /api/v3,
// uploads under /api/uploads on another port), while volantvm/volant's agent is looked up
// on github.com's API (agent-api-url), anonymously by default. Two loopback servers,
// both checked against GitHub's OpenAPI description.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runActionInProcess } from '../support/action.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { volantRelease } from '../support/volant.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

let ghes: GitHubServer
let dotcom: GitHubServer
beforeAll(async () => {
  ghes = await startGitHubServer({ apiPrefix: '/api/v3' })
  dotcom = await startGitHubServer()
  dotcom.addRelease(volantRelease())
})
afterAll(async () => {
  await ghes.close()
  await dotcom.close()
})

describe('GitHub Enterprise Server', () => {
  it('the agent comes from github.com (agent-api-url), the release goes to GITHUB_API_URL', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-ghes-'))
    // Its agent: source_strategy = "release", version = "latest", from volantvm/volant.
    fs.cpSync(path.join(REPO, 'examples/http-server'), workspace, { recursive: true })
    const run = await runActionInProcess(
      workspace,
      { publish: 'auto', cache: 'false', 'agent-api-url': dotcom.url },
      {
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/tags/v1.0.0',
        GITHUB_SERVER_URL: ghes.webUrl,
        GITHUB_API_URL: ghes.url,
        GITHUB_REPOSITORY: 'volantvm/http-server-plugin'
      }
    )
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(ghes.url).toBe(`${ghes.webUrl}/api/v3`)

    // github.com: only volantvm/volant, read anonymously.
    expect(dotcom.requests.length).toBeGreaterThan(0)
    for (const r of dotcom.requests) {
      expect([r.method, r.path]).toEqual(['GET', expect.stringMatching(/^\/(repos\/)?volantvm\/volant\//)])
      expect(r.headers['authorization']).toBeUndefined()
    }
    expect(run.outputs['agent-version']).toBe('v0.6.5')

    // The enterprise server: the plugin's release only, its API under /api/v3.
    expect(ghes.requests.some((r) => r.path.includes('volantvm/volant/'))).toBe(false)
    for (const r of ghes.requests)
      expect(r.path).toMatch(r.host === 'uploads' ? /^\/api\/uploads\/repos\// : /^\/api\/v3\/repos\//)
    const [release] = ghes.releases('volantvm', 'http-server-plugin')
    expect(release).toMatchObject({ tagName: 'v1.0.0', draft: false })
    expect(release?.assets.map((a) => a.name)).toContain('plugin.cpio.gz')
    expect(run.outputs['artifact-url']).toBe(
      `${ghes.webUrl}/volantvm/http-server-plugin/releases/download/v1.0.0/plugin.cpio.gz`
    )
    expect(ghes.violations).toEqual([])
    expect(dotcom.violations).toEqual([])
  }, 120_000)
})
