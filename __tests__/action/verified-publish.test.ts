// The Action as a process (run from the sources), publishing to the loopback GitHub
// while GitHub misbehaves after answering the upload: the release must stay a draft
// and the step fail naming plugin.cpio.gz. Its RUNNER_TEMP must end empty.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { transpileFaces, type SourceFaces } from '../support/from-source.js'
import { startGitHubServer, type Fault, type GitHubServer } from '../support/github-server.js'
import { volantRelease } from '../support/volant.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const run = promisify(execFile)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OWNER = 'volantvm'
const NAME = 'http-server-plugin'

let server: GitHubServer
let faces: SourceFaces
beforeAll(async () => {
  server = await startGitHubServer()
  // examples/http-server's agent comes from volantvm/volant's release.
  server.addRelease(volantRelease())
  faces = transpileFaces()
})
afterAll(async () => {
  await server.close()
  faces.remove()
})

async function publishTag(
  tag: string
): Promise<{ code: number; stdout: string; runnerTemp: string }> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-verified-ws-'))
  fs.cpSync(path.join(REPO, 'examples/http-server'), workspace, { recursive: true })
  const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-verified-runner-'))
  const eventFile = path.join(runner, 'event.json')
  fs.writeFileSync(
    eventFile,
    JSON.stringify({ ref: `refs/tags/${tag}`, repository: { full_name: `${OWNER}/${NAME}` } })
  )
  for (const file of ['output', 'summary']) fs.writeFileSync(path.join(runner, file), '')
  const runnerTemp = newRunnerTemp('action')
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: runner,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REF: `refs/tags/${tag}`,
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REPOSITORY: `${OWNER}/${NAME}`,
    GITHUB_SERVER_URL: server.url,
    GITHUB_API_URL: server.url,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: path.join(runner, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runner, 'summary'),
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(runner, 'tool-cache'),
    INPUT_TOKEN: 'test-token',
    // volantvm/volant (agent, volant kernel) is looked up there, not at GITHUB_API_URL.
    'INPUT_AGENT-API-URL': server.url
  }
  try {
    const { stdout } = await run(process.execPath, [faces.action], { env, cwd: workspace })
    return { code: 0, stdout, runnerTemp }
  } catch (error) {
    const failed = error as { code: number; stdout: string }
    return { code: failed.code, stdout: failed.stdout, runnerTemp }
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true })
    fs.rmSync(runner, { recursive: true, force: true })
  }
}

const UPLOAD_IMAGE = /^\/repos\/[^/]+\/[^/]+\/releases\/\d+\/assets$/

describe('the Action publishes only what GitHub lists with our digest', () => {
  it.each([
    [
      'answers 201 but the asset never appears',
      'v0.3.0',
      { vanish: true } as Fault,
      /"plugin\.cpio\.gz" is missing from its asset list/
    ],
    [
      'lists the asset without a digest',
      'v0.3.1',
      { digest: null } as Fault,
      /"plugin\.cpio\.gz" has no digest to check/
    ]
  ])(
    'GitHub %s: the release stays a draft, the step fails naming plugin.cpio.gz',
    async (_, tag, fault, message) => {
      // The image is the first upload.
      server.inject({ method: 'POST', path: UPLOAD_IMAGE, fault })
      const result = await publishTag(tag)
      expect(result.code).not.toBe(0)
      const errors = result.stdout.split('\n').filter((line) => line.startsWith('::error'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(message)
      expect(errors[0]).toMatch(
        new RegExp(
          `on release ${tag.replace(/\./g, '\\.')}; the release was left a draft\\. Fix: re-run the job`
        )
      )
      const release = server.releases(OWNER, NAME).find((r) => r.tagName === tag)
      expect(release?.draft).toBe(true)
      expect(server.unusedFaults()).toEqual([])
      expect(server.violations).toEqual([])
      expect(fs.readdirSync(result.runnerTemp)).toEqual([])
    },
    180_000
  )
})
