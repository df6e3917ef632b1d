import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { transpileFaces, type SourceFaces } from './from-source.js'

let faces: SourceFaces | undefined

/**
 * The CLI of this tree as plain JavaScript, runnable with `node` in its own
 * process (for what an in-process run cannot show: a hang, a file-descriptor
 * limit, another user). Made once per test file (see from-source.ts).
 */
export function cliScript(): string {
  faces ??= transpileFaces()
  return faces.cli
}

/** Call from afterAll: removes the transpiled tree (its links, not their targets). */
export function removeCliScript(): void {
  faces?.remove()
  faces = undefined
}

export interface ProcessRun {
  /** null when the process was killed (the time budget ran out). */
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface ProcessOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  /**
   * Kill the CLI when its command has run this long. The clock starts once
   * its modules are loaded (a marker line on stderr), so a slow start on a
   * busy machine does not count, and a hang (a blocking read) does.
   */
  budgetMs?: number
  /** Runs the CLI through this command, e.g. ['setpriv', '--reuid=nobody', …, '--']. */
  prefix?: string[]
  /**
   * Once loaded, the CLI lowers its own open-file limit (prlimit, as
   * `ulimit -n` would) to the descriptors it has open plus this many, so the
   * command itself meets EMFILE. (Set before start, the limit would first
   * break the loading of the unbundled modules.)
   */
  spareFileDescriptors?: number
}

const READY = 'fledge-test: loaded'

const HARNESS = `import { execFileSync } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
const { main } = await import('./src/cli/main.js')
const spare = process.env.FLEDGE_TEST_SPARE_FDS // the wanted spare count plus one, so that 0 is not falsy
if (spare) {
  // The limit bounds descriptor numbers, and an open gets the lowest free one: find it.
  const lowestFree = openSync('/dev/null', 'r')
  closeSync(lowestFree)
  execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=' + (lowestFree + Number(spare) - 1)])
}
process.stderr.write(${JSON.stringify(`${READY}
`)})
process.exitCode = await main(process.argv.slice(2))
`

function harnessScript(): string {
  const file = path.join(path.dirname(path.dirname(cliScript())), 'harness.mjs')
  if (!fs.existsSync(file)) fs.writeFileSync(file, HARNESS, { mode: 0o644 })
  return file
}

/** Runs `node <cli> args…` in a child process. */
export function runCliProcess(args: string[], options: ProcessOptions = {}): Promise<ProcessRun> {
  let command = [process.execPath, harnessScript(), ...args]
  if (options.prefix) command = [...options.prefix, ...command]
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) {
    if (value !== undefined) env[key] = value
  }
  delete env['NODE_OPTIONS']
  if (options.spareFileDescriptors !== undefined) env['FLEDGE_TEST_SPARE_FDS'] = String(options.spareFileDescriptors + 1)
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: options.cwd ?? process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    // Loading alone: a generous bound so that a broken harness cannot hang the test run.
    const loadTimer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (timer === undefined && stderr.includes(READY)) {
        clearTimeout(loadTimer)
        timer = setTimeout(() => {
          timedOut = true
          child.kill('SIGKILL')
        }, options.budgetMs ?? 60_000)
      }
    })
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(loadTimer)
      if (timer) clearTimeout(timer)
      resolve({ code, stdout, stderr: stderr.replace(`${READY}\n`, ''), timedOut })
    })
  })
}
