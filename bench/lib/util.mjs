// Small helpers shared by the benchmark scenarios (plain Node ESM, no dependencies).
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
export const REPO = path.dirname(BENCH_DIR)
export const WORK = process.env.BENCH_WORK
  ? path.resolve(process.env.BENCH_WORK)
  : path.join(BENCH_DIR, 'work')
export const RESULTS = path.join(BENCH_DIR, 'results')
export const EPOCH = 1704067200

export function log(message) {
  process.stderr.write(`bench: ${message}\n`)
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`)
  }
  return result.stdout
}

export function sh(script, options = {}) {
  return run('bash', ['-euo', 'pipefail', '-c', script], options)
}

export function quote(word) {
  return `'${String(word).replaceAll("'", `'\\''`)}'`
}

let niceness = 0
/** Runs every timed command under `nice -n N` (negative needs root); 0 = as is. */
export function setNiceness(n) {
  niceness = n
}

/**
 * Runs argv under GNU time (`/usr/bin/time -v`) and returns the wall time
 * measured here (hrtime around the spawn) plus what time(1) saw: user and
 * system CPU seconds and the peak resident set size of the largest process
 * in the tree, in KiB.
 */
export async function timed(argv, options = {}) {
  const timeFile = path.join(
    os.tmpdir(),
    `bench-time-${process.pid}-${Math.random().toString(16).slice(2)}`
  )
  const prefix = niceness ? ['nice', '-n', String(niceness)] : []
  const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, ...prefix, ...argv], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const start = process.hrtime.bigint()
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6
  const report = await fs.readFile(timeFile, 'utf8').catch(() => '')
  await fs.rm(timeFile, { force: true })
  const field = (name) => {
    const m = report.match(new RegExp(`${name}[^:]*: ([0-9.]+)`))
    return m ? Number(m[1]) : NaN
  }
  if (code !== 0) {
    throw new Error(`${argv.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`)
  }
  return {
    wallMs,
    userS: field('User time'),
    sysS: field('System time'),
    maxRssKiB: field('Maximum resident set size'),
    stdout,
    stderr
  }
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

export function summary(values) {
  const v = values.filter((x) => Number.isFinite(x))
  return {
    median: median(v),
    min: Math.min(...v),
    max: Math.max(...v),
    n: v.length
  }
}

export async function sha256File(file) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk)
  return hash.digest('hex')
}

export async function exists(file) {
  return fs.stat(file).then(
    () => true,
    () => false
  )
}

export function loadavg() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100)
}

export const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x)
export const mb = (bytes) => round(bytes / 1e6, 2)
