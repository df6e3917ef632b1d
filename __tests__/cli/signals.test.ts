// SIGINT and SIGTERM in the middle of a build, sent to the real CLI process (run from
// the sources): it ends with 130/143, leaves no `.tmp` beside the output and nothing
// in RUNNER_TEMP, and the next build gives the same bytes as one never interrupted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
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
  const child = spawn(process.execPath, [faces.cli, 'build', '--no-cache', '-o', output], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, RUNNER_TEMP: runnerTemp, RUNNER_TOOL_CACHE: toolCache },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let tempAtSignal: string[] = []
  let poll: NodeJS.Timeout | undefined
  if (interrupt) {
    // Once the temp output exists, the archive is being written.
    poll = setInterval(() => {
      if (!fs.readdirSync(path.dirname(output)).some((name) => name.endsWith('.tmp'))) return
      clearInterval(poll)
      tempAtSignal = fs.readdirSync(runnerTemp)
      child.kill(interrupt)
    }, 10)
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearInterval(poll)
      resolve({ code, signal, stderr, tempAtSignal })
    })
  })
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')

describe('the CLI interrupted mid-build', () => {
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
      expect(fs.readdirSync(out)).toEqual(['reference.cpio.gz']) // no .tmp, no half output
      expect(fs.readdirSync(runnerTemp)).toEqual([])
    }

    const again = path.join(out, 'plugin.cpio.gz')
    const next = await runBuild(again, newRunnerTemp('cli-after'))
    expect(next.code).toBe(0)
    expect(sha256(again)).toBe(sha256(reference))
  })
})
