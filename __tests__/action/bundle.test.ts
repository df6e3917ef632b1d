// The shipped bundles (dist/, built by scripts/package.sh): every package ncc put in them has
// its notice in licenses.txt, no comment points at a source map that is not shipped, and
// sigstore (@actions/attest) sits in a chunk of its own that a run with attest: false never loads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseOutputs } from '../support/action.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const execute = promisify(execFile)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const DIST = path.join(REPO, 'dist')
const FACES = { action: 'src/index.ts', cli: 'src/cli.ts' } as const
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function node(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execute(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, timeout: 600_000, ...options })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('licenses.txt names every bundled package, with its licence text', () => {
  // What ncc really bundles: the same builds as scripts/package.sh, with webpack's stats.
  let stats: string
  beforeAll(async () => {
    stats = tmp('fledge-bundle-stats-')
    const ncc = path.join(REPO, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
    const builds: [string, string][] = [...Object.entries(FACES), ['worker', 'src/archive/deflate-worker.mjs']]
    for (const [name, entry] of builds) {
      const built = await node([ncc, 'build', entry, '-q', '-o', path.join(stats, name), '--stats-out', path.join(stats, `${name}.json`)], { cwd: REPO })
      expect([name, built.code, built.stderr]).toEqual([name, 0, ''])
    }
  }, 600_000)
  afterAll(() => fs.rmSync(stats, { recursive: true, force: true }))

  const check = (face: string, licenses: string) =>
    node([path.join(REPO, 'scripts/licenses.mjs'), 'check', licenses, path.join(stats, `${face}.json`), path.join(stats, 'worker.json')])

  it.each(Object.keys(FACES))('dist/%s/licenses.txt matches the packages in the bundle', async (face) => {
    const licenses = path.join(DIST, face, 'licenses.txt')
    const result = await check(face, licenses)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const count = Number(/(\d+) bundled packages/.exec(result.stdout)?.[1])
    // The Action embeds octokit, undici, ajv, jose, sigstore…; the CLI at least ajv, undici, smol-toml.
    expect(count).toBeGreaterThanOrEqual(face === 'action' ? 60 : 5)
    const text = fs.readFileSync(licenses, 'utf8')
    for (const name of face === 'action' ? ['undici', '@sigstore/sign', 'jose', '@octokit/core', 'ajv'] : ['undici', 'ajv', 'smol-toml']) {
      expect(text).toMatch(new RegExp(`^==== ${name.replace('/', '\\/')}@\\S+ \\(`, 'm'))
    }
    expect(text).toMatch(/Permission is hereby granted/)
  })

  it('fails, naming the package, when one bundled package\'s notice is removed', async () => {
    const text = fs.readFileSync(path.join(DIST, 'action/licenses.txt'), 'utf8')
    const withoutUndici = text.replace(/^==== undici@[^\n]*\n[\s\S]*?(?=^==== )/m, '')
    expect(withoutUndici.length).toBeLessThan(text.length)
    const edited = path.join(stats, 'licenses.txt')
    fs.writeFileSync(edited, withoutUndici)
    const result = await check('action', edited)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/undici@\S+ is bundled but has no notice/)
  })

  it('credits the C libraries compiled into the shipped .wasm files, and fails without one', async () => {
    const text = fs.readFileSync(path.join(DIST, 'cli/licenses.txt'), 'utf8')
    for (const [library, wasm] of [['zlib', 'zlib.wasm'], ['zstd', 'zstd.wasm'], ['lz4', 'lz4.wasm']]) {
      expect(fs.existsSync(path.join(DIST, 'cli', wasm as string))).toBe(true)
      expect(text).toMatch(new RegExp(`^==== ${library}@[\\d.]+ \\([^)]+\\) ====\\n\\(compiled into ${wasm}\\)\\n\\n\\S`, 'm'))
    }
    const edited = path.join(stats, 'licenses-no-zstd.txt')
    fs.writeFileSync(edited, text.replace(/^==== zstd@[^\n]*\n[\s\S]*?(?=^==== )/m, ''))
    const result = await check('cli', edited)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/zstd@1\.5\.4 is bundled but has no notice/)
  })
})

describe('no dangling sourceMappingURL in dist', () => {
  it('no bundle file has a sourceMappingURL comment whose map is not beside it', () => {
    const dangling: string[] = []
    for (const face of Object.keys(FACES)) {
      for (const name of fs.readdirSync(path.join(DIST, face)).filter((n) => /\.m?js$/.test(n))) {
        const file = path.join(DIST, face, name)
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\s*\/\/[#@] sourceMappingURL=(\S+)/gm)) {
          const target = m[1] as string
          if (target.startsWith('data:') || !fs.existsSync(path.join(DIST, face, target))) dangling.push(`${face}/${name}: ${target}`)
        }
      }
    }
    expect(dangling).toEqual([])
  })
})

describe('@actions/attest (sigstore) loads only when attest is true', () => {
  const SIGSTORE = 'application/vnd.dev.sigstore.bundle'
  const chunks = () => fs.readdirSync(path.join(DIST, 'action')).filter((n) => /^\d+\.index\.js$/.test(n))

  it('the main bundle has no sigstore code; a separate chunk has it', () => {
    expect(fs.readFileSync(path.join(DIST, 'action/index.js'), 'utf8')).not.toContain(SIGSTORE)
    const withSigstore = chunks().filter((n) => fs.readFileSync(path.join(DIST, 'action', n), 'utf8').includes(SIGSTORE))
    expect(withSigstore).toHaveLength(1)
  })

  // The bundled Action as a process, with a module hook that records every file Node loads.
  async function runBundle(attest: boolean): Promise<{ loaded: string[]; outputs: Record<string, string>; stdout: string; code: number }> {
    const runner = tmp('fledge-bundle-runner-')
    const workspace = path.join(runner, 'plugin')
    fs.cpSync(path.join(REPO, 'examples/offline'), workspace, { recursive: true })
    const log = path.join(runner, 'loaded.txt')
    const hooks = path.join(runner, 'hooks.mjs')
    fs.writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs'\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + '\\n')\n  return next(url, context)\n}\n`
    )
    const register = path.join(runner, 'register.mjs')
    fs.writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)})\n`)
    for (const file of ['output', 'summary', 'loaded.txt']) fs.writeFileSync(path.join(runner, file), '')
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '',
      HOME: runner,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_REPOSITORY: 'volantvm/test-plugin',
      GITHUB_SERVER_URL: 'http://127.0.0.1:9',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: path.join(runner, 'output'),
      GITHUB_STEP_SUMMARY: path.join(runner, 'summary'),
      RUNNER_TEMP: newRunnerTemp('action'),
      INPUT_TOKEN: 'test-token',
      INPUT_PUBLISH: 'false',
      INPUT_ATTEST: String(attest),
      // Loopback only: with attest, signing stops at the OIDC token request (nothing listens on port 9).
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'test'
    }
    try {
      const run = await node(['--import', register, path.join(DIST, 'action/index.js')], { cwd: workspace, env })
      const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((url) => path.basename(new URL(url).pathname))
      return { loaded, outputs: parseOutputs(fs.readFileSync(path.join(runner, 'output'), 'utf8')), stdout: run.stdout, code: run.code }
    } finally {
      fs.rmSync(runner, { recursive: true, force: true })
    }
  }

  it('a run with attest: false builds and never loads the sigstore chunk; attest: true loads it', async () => {
    const sigstoreChunk = chunks().find((n) => fs.readFileSync(path.join(DIST, 'action', n), 'utf8').includes(SIGSTORE)) as string
    const without = await runBundle(false)
    expect(without.stdout).not.toMatch(/::error/)
    expect(without.code).toBe(0)
    expect(without.outputs['sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(without.loaded).toContain('index.js')
    expect(without.loaded).not.toContain(sigstoreChunk)

    // The control: the hook sees the chunk when the provenance path runs.
    const withAttest = await runBundle(true)
    expect(withAttest.loaded).toContain(sigstoreChunk)
    expect(withAttest.stdout).toMatch(/::error.*signing the provenance failed/)
  })
})
