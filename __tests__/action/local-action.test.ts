// The Action as GitHub's own local runner for JavaScript actions runs it: @github/local-action
// imports src/main.ts, calls its run() with @actions/core stubbed, and prints the outputs.
// Importing the entry must do nothing; the bundle's entry (src/index.ts) is what runs it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { volantRelease } from '../support/volant.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const execute = promisify(execFile)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const LOCAL_ACTION = path.join(REPO, 'node_modules/@github/local-action/bin/local-action.js')
const OWNER = 'volantvm'
const NAME = 'http-server-plugin'

let server: GitHubServer
beforeAll(async () => {
  server = await startGitHubServer()
  server.addRelease(volantRelease())
})
afterAll(async () => {
  await server.close()
})

describe('src/main.ts, the entry @github/local-action loads', () => {
  it('exports run() and does nothing when imported: no listeners, no output, no exit code', async () => {
    const listeners = process.listenerCount('SIGTERM') + process.listenerCount('exit')
    const write = process.stdout.write
    let written = ''
    process.stdout.write = ((chunk: unknown) => (
      (written += String(chunk)),
      true
    )) as typeof process.stdout.write
    let entry: { run?: unknown }
    try {
      entry = await import('../../src/main.js')
    } finally {
      process.stdout.write = write
    }
    expect(typeof entry.run).toBe('function')
    expect(written).toBe('')
    expect(process.listenerCount('SIGTERM') + process.listenerCount('exit')).toBe(listeners)
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('the bundle entry, src/index.ts, is the one that calls run()', () => {
    const index = fs.readFileSync(path.join(REPO, 'src/index.ts'), 'utf8')
    expect(index).toMatch(/^import \{ run \} from '\.\/main\.js'$/m)
    expect(index).toMatch(/^await run\(\)$/m)
    expect(fs.readFileSync(path.join(REPO, 'scripts/package.sh'), 'utf8')).toMatch(
      /ncc build src\/index\.ts -o dist\/action/
    )
  })
})

describe('under @github/local-action (dev dependency), against the loopback GitHub', () => {
  it('builds and publishes the tag, and local-action reports the outputs', async () => {
    if (!fs.existsSync(LOCAL_ACTION)) {
      throw new Error(
        `@github/local-action is not installed (${LOCAL_ACTION} is missing): run scripts/setup.sh`
      )
    }
    const tag = 'v0.3.0'
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-local-action-ws-'))
    const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-local-action-runner-'))
    fs.cpSync(path.join(REPO, 'examples/http-server'), workspace, { recursive: true })
    const eventFile = path.join(runner, 'event.json')
    fs.writeFileSync(
      eventFile,
      JSON.stringify({ ref: `refs/tags/${tag}`, repository: { full_name: `${OWNER}/${NAME}` } })
    )
    const summary = path.join(runner, 'summary')
    fs.writeFileSync(summary, '')
    const runnerTemp = newRunnerTemp('action')
    // local-action reads the step's environment from a dotenv file.
    const dotenv = path.join(runner, '.env')
    const variables: Record<string, string> = {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile,
      GITHUB_REF: `refs/tags/${tag}`,
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_REPOSITORY: `${OWNER}/${NAME}`,
      GITHUB_SERVER_URL: server.url,
      GITHUB_API_URL: server.url,
      GITHUB_WORKSPACE: workspace,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: runnerTemp,
      RUNNER_TOOL_CACHE: path.join(runner, 'tool-cache'),
      INPUT_TOKEN: 'test-token',
      // examples/http-server's agent: volantvm/volant's release on the same loopback server.
      'INPUT_AGENT-API-URL': server.url
    }
    fs.writeFileSync(
      dotenv,
      Object.entries(variables)
        .map(([name, value]) => `${name}=${value}\n`)
        .join('')
    )
    let stdout: string
    try {
      ;({ stdout } = await execute(
        process.execPath,
        [LOCAL_ACTION, 'run', REPO, 'src/main.ts', dotenv],
        {
          cwd: REPO,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: runner,
            // local-action stubs @actions/core by the path `npm ls` gives, under node_modules;
            // where node_modules is a symlink (a git worktree's), Node must keep that path.
            NODE_OPTIONS: '--preserve-symlinks',
            // local-action runs tsx through `npm exec`: the local one, and no registry look-up.
            npm_config_offline: 'true',
            npm_config_update_notifier: 'false'
          },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 600_000
        }
      ))
    } catch (error) {
      const { stdout: out = '', stderr: err = '' } = error as { stdout?: string; stderr?: string }
      throw new Error(`local-action failed:\n${out.slice(-4000)}\n${err.slice(-4000)}`, {
        cause: error
      })
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true })
    }
    try {
      // local-action's core stub logs each output as a workflow command and collects them.
      const outputs = Object.fromEntries(
        [...stdout.matchAll(/^::set-output name=([^:]+)::(.*)$/gm)].map((m) => [m[1], m[2]])
      )
      expect(stdout).toMatch(/Action Outputs/)
      expect(stdout).not.toMatch(/No outputs were set/)
      const release = server.releases(OWNER, NAME).find((r) => r.tagName === tag)
      expect(release).toBeDefined()
      expect(outputs['release-id']).toBe(String(release?.id))
      expect(outputs['sha256']).toMatch(/^[0-9a-f]{64}$/)
      expect(outputs['checksum']).toBe(`sha256:${outputs['sha256']}`)
      expect(outputs['artifact-url']).toContain(`/releases/download/${tag}/plugin.cpio.gz`)
      expect(release?.assets.map((a) => a.name)).toEqual(
        expect.arrayContaining(['plugin.cpio.gz', 'SHA256SUMS'])
      )
      expect(fs.readFileSync(summary, 'utf8')).toContain(tag)
      expect(fs.readdirSync(runnerTemp)).toEqual([])
    } finally {
      fs.rmSync(runner, { recursive: true, force: true })
    }
  })
})
