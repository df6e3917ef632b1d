import * as path from 'node:path'
import { githubApiUrl } from '../sources/agent.js'
import { existsSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { BuildResult } from '../build.js'
import { withCleanup } from '../cleanup.js'
import { makeProduct } from '../release/product.js'
import { loadConfig } from '../config/load.js'
import { parseSourceDateEpoch } from '../config/epoch.js'
import { formatError } from '../errors.js'
import { MiB, readRegularFile } from '../user-files.js'
import { stderrLogger } from '../log.js'
import { formatListing, inspectArchive } from './inspect.js'
import { readArchive, type ArchiveRecord } from '../archive/read.js'
import { DEFAULT_OUTPUT_NAME, describeCompression, parseCompression } from '../archive/compression.js'
import { obtainKernel } from '../boot/kernel-source.js'
import { bootImage, bootTimes } from '../boot/smoke.js'
import { bootSettings } from '../boot/settings.js'
import { describeBootCost } from '../boot/cost.js'
import { compareFormats, formatComparison } from '../boot/compare.js'
import { diffImages, formatDiff } from '../image/diff.js'
import { verifyArchive } from '../release/verify.js'
import { validateManifestSource } from '../manifest/index.js'
import { quietWorkflowCommands } from './stdout.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

class UsageError extends Error {}

const USAGE = `Usage: fledge-action <command> [options]

Commands:
  build     [-c fledge.toml] [-m manifest.toml] [-o plugin.cpio.gz] [--no-cache]
            [--compression gzip|zstd|lz4|none[:LEVEL]]
            [--allow-dynamic] [--no-record] [--no-sums] [-v]
            Build the initramfs, its manifest (from manifest.toml when it exists),
            <output>.build.json (for verify) and SHA256SUMS beside it; prints the
            checksum, size, content digest and agent tag. --compression (default
            gzip) takes a level after a colon (zstd:19); -o defaults to
            plugin.cpio.gz, .cpio.zst, .cpio.lz4 or plugin.cpio to match.
  validate  [-c fledge.toml] [-m manifest.toml|manifest.json]
            Check fledge.toml and the manifest (manifest.toml when it exists)
            by Volant's rules; exit 0, or print every problem.
  inspect   ARCHIVE [--json]
            List an initramfs (plain newc or compressed with gzip, zstd or lz4,
            concatenated members too).
  boot      ARCHIVE [--kernel PATH|URL|volant[:TAG]] [--kernel-sha256 HEX] [--expect TEXT]
            [--timeout SECONDS] [--manifest FILE] [--health] [--console] [--icount]
            Boot the image in QEMU as Volant does; pass on the marker, or with
            --health on kestrel's /healthz 200 (after the workload's own check);
            fail on a panic, the agent halting, or the timeout (default 120 s).
            Prints the image's boot cost from the kernel's log: unpack, start
            → /init, /init → the agent's first line; --icount counts guest
            instructions (software emulation, 1 ns each: repeatable virtual ms).
            With --compare [-c fledge.toml] [--json] instead of ARCHIVE: builds
            the image in each compression (temp folder), boots each with
            --icount, and prints size, build ms and unpack ms per format.
  diff      OLD NEW [--json]
            Entries added, removed and changed between two images.
  verify    ARCHIVE --record FILE [-c fledge.toml]
            Rebuild from the build record's inputs and compare the bytes.

Exit codes: 0 ok, 1 build or validation failure, 2 usage error.
Environment: SOURCE_DATE_EPOCH (timestamps), GITHUB_TOKEN (agent release lookups),
GITHUB_API_URL (GitHub API base).`

type Options = NonNullable<ParseArgsConfig['options']>

type Values = Record<string, string | boolean | undefined>

function parse(
  args: string[],
  options: Options,
  positionals = 0
): { values: Values; positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      positionals === 0
        ? `unexpected argument: ${parsed.positionals[0]}`
        : `expected ${positionals} argument${positionals > 1 ? 's' : ''}`
    )
  }
  return { values: parsed.values as Values, positionals: parsed.positionals }
}

/** Runs one command; whatever temp files it made are gone when it returns. */
export function main(argv: string[]): Promise<number> {
  return withCleanup(() => runCommand(argv))
}

async function runCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  quietWorkflowCommands(() => rest.includes('-v') || rest.includes('--verbose'))
  try {
    switch (command) {
      case 'build':
        return await buildCommand(rest)
      case 'validate':
        return await validateCommand(rest)
      case 'inspect':
        return await inspectCommand(rest)
      case 'boot':
        return await bootCommand(rest)
      case 'diff':
        return await diffCommand(rest)
      case 'verify':
        return await verifyCommand(rest)
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`)
        return command === undefined ? EXIT_USAGE : EXIT_OK
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`fledge-action: ${error.message}\n\n${USAGE}\n`)
      return EXIT_USAGE
    }
    process.stderr.write(`error: ${formatError(error)}\n`)
    if (!(error instanceof Error) || error.name === 'Error' && process.env['FLEDGE_DEBUG']) {
      process.stderr.write(`${(error as Error)?.stack ?? ''}\n`)
    }
    return EXIT_FAILURE
  }
}

async function buildCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string', short: 'c', default: 'fledge.toml' },
    manifest: { type: 'string', short: 'm', default: 'manifest.toml' },
    output: { type: 'string', short: 'o' },
    compression: { type: 'string', default: 'gzip' },
    'no-cache': { type: 'boolean' },
    'allow-dynamic': { type: 'boolean' },
    'no-record': { type: 'boolean' },
    'no-sums': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' }
  })
  if (values.help) return help()
  const log = stderrLogger(values.verbose === true)
  const configPath = path.resolve(values.config as string)
  const compression = parseCompression(values.compression as string, '--compression')
  const product = await makeProduct({
    configPath,
    outputPath: (values.output as string | undefined) ?? DEFAULT_OUTPUT_NAME[compression.format],
    compression,
    baseDir: path.dirname(configPath),
    sourceDateEpoch: process.env['SOURCE_DATE_EPOCH'],
    useCache: values['no-cache'] !== true,
    allowDynamic: values['allow-dynamic'] === true,
    token: process.env['GITHUB_TOKEN'] || process.env['GH_TOKEN'] || undefined,
    manifest: { template: values.manifest as string },
    record: values['no-record'] !== true,
    sums: values['no-sums'] !== true,
    log
  })
  const result = product.build
  const manifest = product.manifest
  const a = result.archive
  const lines = [
    displayPath(a.path),
    `  checksum:       sha256:${a.sha256}`,
    `  size:           ${a.size} bytes (${(a.size / 1e6).toFixed(2)} MB)`,
    `  content sha256: ${a.contentSha256} (uncompressed cpio, ${a.contentSize} bytes)`,
    `  compression:    ${describeCompression(result.compression)}`,
    `  entries:        ${result.entries.length}`,
    `  agent:          ${describeAgent(result)}`,
    `  busybox:        sha256:${result.busybox.sha256}`,
    `  mtime:          ${result.epoch}`
  ]
  if (result.image) lines.splice(lines.length - 1, 0, `  image:          ${result.image.reference} (${result.image.digest})`)
  if (manifest) lines.push(`  manifest:       ${displayPath(manifest.path)}`)
  if (product.record) lines.push(`  build record:   ${displayPath(product.record.path)}`)
  if (product.sumsPath) lines.push(`  SHA256SUMS:     ${displayPath(product.sumsPath)}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  return EXIT_OK
}

/** Relative to the working folder when inside it, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file)
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file
}

function describeAgent(result: BuildResult): string {
  const agent = result.agent
  if (!agent) return `none (${result.config.init.mode} init mode)`
  if (agent.strategy === 'release') return `${agent.tag} (release, sha256:${agent.sha256})`
  return `${agent.strategy} (sha256:${agent.sha256})`
}

async function validateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string', short: 'c', default: 'fledge.toml' },
    manifest: { type: 'string', short: 'm' }
  })
  if (values.help) return help()
  parseSourceDateEpoch(process.env['SOURCE_DATE_EPOCH'])
  const config = await loadConfig(values.config as string)
  process.stdout.write(
    `${values.config}: ok (${config.init.mode} init, ${config.mappings.length} mapping${config.mappings.length === 1 ? '' : 's'})\n`
  )
  // As build does: -m, else manifest.toml when it exists.
  const manifest = (values.manifest as string | undefined) ?? (existsSync('manifest.toml') ? 'manifest.toml' : undefined)
  if (manifest) {
    validateManifestSource(manifest, stderrLogger())
    process.stdout.write(`${manifest}: ok (volant accepts it and can boot it)\n`)
  }
  return EXIT_OK
}

async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1)
  if (values.help) return help()
  const records = await inspectArchive(positionals[0] as string)
  process.stdout.write(values.json ? `${JSON.stringify(records, null, 2)}\n` : `${formatListing(records)}\n`)
  return EXIT_OK
}

async function bootCommand(args: string[]): Promise<number> {
  if (args.includes('--compare')) return compareCommand(args)
  const { values, positionals } = parse(
    args,
    {
      kernel: { type: 'string' },
      'kernel-sha256': { type: 'string' },
      expect: { type: 'string' },
      timeout: { type: 'string', default: '120' },
      manifest: { type: 'string' },
      health: { type: 'boolean' },
      console: { type: 'boolean' },
      icount: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' }
    },
    1
  )
  if (values.help) return help()
  const timeoutSeconds = Number(values.timeout)
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout takes a number of seconds')
  const log = stderrLogger(values.verbose === true)
  const manifest = values.manifest ? { json: readRegularFile(values.manifest as string, { what: 'manifest', maxBytes: MiB }).toString('utf8'), path: values.manifest as string } : undefined
  if (values.health && !manifest) throw new UsageError('--health needs --manifest (for workload.base_url and health_check)')
  const settings = bootSettings(manifest, {
    health: values.health === true,
    expect: values.expect as string | undefined,
    timeoutSeconds
  })
  const kernel = await obtainKernel(values.kernel as string | undefined, values['kernel-sha256'] as string | undefined, log, {
    apiUrl: githubApiUrl(),
    token: process.env['GITHUB_TOKEN'] || process.env['GH_TOKEN'] || undefined
  })
  const result = await bootImage({ archive: positionals[0] as string, kernel, ...settings, icount: values.icount === true, log })
  if (values.console || !result.ok) process.stdout.write(`${result.consoleTail.trimEnd()}\n`)
  if (!result.ok) {
    process.stderr.write(`error: boot smoke test failed (${result.accel}): ${result.reason ?? 'unknown reason'}\n`)
    return EXIT_FAILURE
  }
  process.stdout.write(
    `booted (${result.accel}): ${bootTimes(result).join(', ')}\n` +
      `boot cost: ${result.cost ? describeBootCost(result.cost) : `not measured: ${result.costMissing ?? 'unknown reason'}`}\n`
  )
  return EXIT_OK
}

async function compareCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    compare: { type: 'boolean' },
    config: { type: 'string', short: 'c', default: 'fledge.toml' },
    kernel: { type: 'string' },
    'kernel-sha256': { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'no-cache': { type: 'boolean' },
    'allow-dynamic': { type: 'boolean' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' }
  })
  if (values.help) return help()
  const timeoutSeconds = Number(values.timeout)
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout takes a number of seconds')
  const log = stderrLogger(values.verbose === true)
  const token = process.env['GITHUB_TOKEN'] || process.env['GH_TOKEN'] || undefined
  const kernel = await obtainKernel(values.kernel as string | undefined, values['kernel-sha256'] as string | undefined, log, {
    apiUrl: githubApiUrl(),
    token
  })
  const rows = await compareFormats({
    configPath: path.resolve(values.config as string),
    kernel,
    log,
    sourceDateEpoch: process.env['SOURCE_DATE_EPOCH'],
    useCache: values['no-cache'] !== true,
    allowDynamic: values['allow-dynamic'] === true,
    apiUrl: githubApiUrl(),
    token,
    timeoutSeconds
  })
  process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatComparison(rows)}\n`)
  return EXIT_OK
}

async function diffCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 2)
  if (values.help) return help()
  const read = async (file: string) => {
    const records: ArchiveRecord[] = []
    for await (const r of readArchive(file)) records.push(r)
    return records
  }
  const diff = diffImages(await read(positionals[0] as string), await read(positionals[1] as string))
  process.stdout.write(values.json ? `${JSON.stringify(diff, null, 2)}\n` : `${formatDiff(diff)}\n`)
  return EXIT_OK
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { record: { type: 'string' }, config: { type: 'string', short: 'c' } }, 1)
  if (values.help) return help()
  if (!values.record) throw new UsageError('verify needs --record <artifact>.build.json')
  const result = await verifyArchive({
    archive: positionals[0] as string,
    record: values.record as string,
    configPath: values.config as string | undefined,
    token: process.env['GITHUB_TOKEN'] || process.env['GH_TOKEN'] || undefined,
    log: stderrLogger(false)
  })
  if (result.match && result.differences.length === 0) {
    process.stdout.write(`match: the rebuild gives the same bytes (sha256:${result.rebuiltSha256})\n`)
    return EXIT_OK
  }
  process.stdout.write(
    `mismatch: archive sha256:${result.archiveSha256}, rebuilt sha256:${result.rebuiltSha256}\n${result.differences.map((d) => `  ${d}`).join('\n')}\n`
  )
  return EXIT_FAILURE
}

function help(): number {
  process.stdout.write(`${USAGE}\n`)
  return EXIT_OK
}

