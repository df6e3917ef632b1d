// SIGINT and SIGTERM in the middle of a build, sent to the real CLI process (run from
// the sources): it ends with 130/143, leaves no `.tmp` beside the output and nothing
// in RUNNER_TEMP, and the next build gives the same bytes as one never interrupted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { transpileFaces, type SourceFaces } from '../support/from-source.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'
import { newRunnerTemp } from '../support/runner-temp.js'

let faces: SourceFaces
let dir: string
let toolCache: string
beforeAll(() => {
  faces = transpileFaces()
  // 40 MB that does not compress: the archive stage takes long enough to interrupt.
  dir = makeProject({
    'fledge.toml': offlineConfig('\n[mappings]\n"big.bin" = "/data/big.bin"\n'),
    'agent.sh': STAND_IN_AGENT,
    'big.bin': randomBytes(40 * 1024 * 1024)
  })
  toolCache = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-signals-tc-'))
})
afterAll(() => {
  faces.remove()
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(toolCache, { recursive: true, force: true })
})

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** What RUNNER_TEMP held when the signal was sent. */
  tempAtSignal: string[]
}

/** `build --no-cache -o <output>` (busybox and the init are then fetched and compiled into RUNNER_TEMP each time). */
function runBuild(output: string, runnerTemp: string, interrupt?: NodeJS.Signals): Promise<Exit> {
  return runProcess([faces.cli, 'build', '--no-cache', '-o', output], {}, output, runnerTemp, interrupt)
}

/** Runs `args` with node; with `interrupt`, sends it once the temp file beside `output` appears. */
function runProcess(
  args: string[],
  env: Record<string, string>,
  output: string,
  runnerTemp: string,
  interrupt?: NodeJS.Signals,
  /** Killed with SIGKILL after this long (a process that does not end by itself). */
  limitMs = 120_000
): Promise<Exit> {
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, RUNNER_TEMP: runnerTemp, RUNNER_TOOL_CACHE: toolCache, ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let tempAtSignal: string[] = []
  let poll: NodeJS.Timeout | undefined
  if (interrupt) {
    // Once the temp output exists, the archive is being written.
    poll = setInterval(() => {
      if (!fs.existsSync(path.dirname(output))) return
      if (!fs.readdirSync(path.dirname(output)).some((name) => name.endsWith('.tmp'))) return
      clearInterval(poll)
      tempAtSignal = fs.readdirSync(runnerTemp)
      child.kill(interrupt)
    }, 10)
  }
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(limit)
      clearInterval(poll)
      resolve({ code, signal, stderr, tempAtSignal })
    })
  })
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

describe('the CLI and the Action interrupted or failing mid-build', () => {
  it('exits 130 on SIGINT and 143 on SIGTERM, leaving nothing; the next build is identical', async () => {
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    const reference = path.join(out, 'reference.cpio.gz')
    const referenceTemp = newRunnerTemp('cli-reference')
    const uninterrupted = await runBuild(reference, referenceTemp)
    expect(uninterrupted.stderr).not.toMatch(/error/)
    expect(uninterrupted.code).toBe(0)
    expect(fs.readdirSync(referenceTemp)).toEqual([]) // a successful build leaves nothing either

    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const runnerTemp = newRunnerTemp(`cli-${signal}`)
      const output = path.join(out, 'plugin.cpio.gz')
      const interrupted = await runBuild(output, runnerTemp, signal)
      expect({ signal, code: interrupted.code, by: interrupted.signal }).toEqual({ signal, code, by: null })
      // The busybox download and the compiled init were there to be removed.
      expect(interrupted.tempAtSignal.map((name) => name.replace(/-.*/, '')).sort()).toEqual(['busybox', 'init'])
      // No .tmp, no half output: only the reference build's image, record and SHA256SUMS.
      expect(fs.readdirSync(out).sort()).toEqual(['SHA256SUMS', 'reference.cpio.gz', 'reference.cpio.gz.build.json'])
      expect(fs.readdirSync(runnerTemp)).toEqual([])
    }

    const again = path.join(out, 'plugin.cpio.gz')
    const next = await runBuild(again, newRunnerTemp('cli-after'))
    expect(next.code).toBe(0)
    expect(sha256(again)).toBe(sha256(reference))
  })

  it('the Action process too: SIGTERM mid-build exits 143 and leaves nothing', async () => {
    const out = path.join(dir, 'action-out')
    const runnerTemp = newRunnerTemp('action-SIGTERM')
    const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-signals-runner-'))
    const event = path.join(runner, 'event.json')
    fs.writeFileSync(event, JSON.stringify({ number: 7, pull_request: { number: 7 } }))
    for (const file of ['output', 'summary']) fs.writeFileSync(path.join(runner, file), '')
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: 'refs/pull/7/merge',
      GITHUB_REPOSITORY: 'volantvm/signals',
      GITHUB_WORKSPACE: dir,
      GITHUB_OUTPUT: path.join(runner, 'output'),
      GITHUB_STEP_SUMMARY: path.join(runner, 'summary'),
      INPUT_OUTPUT: 'action-out/plugin.cpio.gz',
      INPUT_CACHE: 'false'
    }
    const interrupted = await runProcess([faces.action], env, path.join(out, 'plugin.cpio.gz'), runnerTemp, 'SIGTERM')
    fs.rmSync(runner, { recursive: true, force: true })
    expect({ code: interrupted.code, by: interrupted.signal }).toEqual({ code: 143, by: null })
    expect(interrupted.tempAtSignal.map((name) => name.replace(/-.*/, '')).sort()).toEqual(['busybox', 'init'])
    expect(fs.readdirSync(out)).toEqual([])
    expect(fs.readdirSync(runnerTemp)).toEqual([])
  })

  it('a build that fails mid-archive (disk full) ends by itself with 1: no .tmp, no temp folders, no live workers', async () => {
    // A 1 MiB tmpfs for the output: the 40 MB image fills it while the deflate workers run.
    const full = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full])
    try {
      const runnerTemp = newRunnerTemp('cli-disk-full')
      const failed = await runProcess([faces.cli, 'build', '--no-cache', '-o', path.join(full, 'plugin.cpio.gz')], {}, full, runnerTemp, undefined, 60_000)
      expect(failed.stderr).toMatch(/ENOSPC|no space|disk/i)
      // Exited on its own (a deflate worker left running would keep it alive until killed).
      expect({ code: failed.code, by: failed.signal }).toEqual({ code: 1, by: null })
      expect(fs.readdirSync(full)).toEqual([])
      expect(fs.readdirSync(runnerTemp)).toEqual([])
    } finally {
      execFileSync('umount', [full])
      fs.rmdirSync(full)
    }
  })
})
