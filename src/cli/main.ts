import * as path from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { build } from '../build.js'
import { loadConfig } from '../config/load.js'
import { parseSourceDateEpoch } from '../config/epoch.js'
import { formatError } from '../errors.js'
import { stderrLogger } from '../log.js'
import { formatListing, inspectArchive } from './inspect.js'
import { quietWorkflowCommands } from './stdout.js'
import { planFromTemplate, writePluginManifest } from '../manifest/index.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

class UsageError extends Error {}

const USAGE = `Usage: fledge-action <command> [options]

Commands:
  build     [-c fledge.toml] [-m manifest.toml] [-o plugin.cpio.gz] [--no-cache]
            [--allow-dynamic] [-v]
            Build the initramfs; prints its checksum, size, content digest and agent tag.
  validate  [-c fledge.toml]
            Check fledge.toml; exit 0, or print every problem.
  inspect   ARCHIVE [--json]
            List an initramfs (gzip or plain newc, concatenated members too).

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

export async function main(argv: string[]): Promise<number> {
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
    output: { type: 'string', short: 'o', default: 'plugin.cpio.gz' },
    'no-cache': { type: 'boolean' },
    'allow-dynamic': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' }
  })
  if (values.help) return help()
  const log = stderrLogger(values.verbose === true)
  const result = await build({
    configPath: values.config as string,
    outputPath: values.output as string,
    sourceDateEpoch: process.env['SOURCE_DATE_EPOCH'],
    useCache: values['no-cache'] !== true,
    allowDynamic: values['allow-dynamic'] === true,
    token: process.env['GITHUB_TOKEN'] || process.env['GH_TOKEN'] || undefined,
    log
  })
  const a = result.archive
  const plan = await planFromTemplate(values.manifest as string, a.path)
  const manifest = await writePluginManifest(plan, { sha256: a.sha256 }, log)
  const lines = [
    `${path.relative(process.cwd(), a.path) || a.path}`,
    `  checksum:       sha256:${a.sha256}`,
    `  size:           ${a.size} bytes (${(a.size / 1e6).toFixed(2)} MB)`,
    `  content sha256: ${a.contentSha256} (uncompressed cpio, ${a.contentSize} bytes)`,
    `  entries:        ${result.entries.length}`,
    `  agent:          ${describeAgent(result)}`,
    `  busybox:        sha256:${result.busybox.sha256}`,
    `  mtime:          ${result.epoch}`
  ]
  if (manifest) lines.push(`  manifest:       ${path.relative(process.cwd(), manifest.path) || manifest.path}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  return EXIT_OK
}

function describeAgent(result: Awaited<ReturnType<typeof build>>): string {
  const agent = result.agent
  if (!agent) return `none (${result.config.init.mode} init mode)`
  if (agent.strategy === 'release') return `${agent.tag} (release, sha256:${agent.sha256})`
  return `${agent.strategy} (sha256:${agent.sha256})`
}

async function validateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string', short: 'c', default: 'fledge.toml' } })
  if (values.help) return help()
  parseSourceDateEpoch(process.env['SOURCE_DATE_EPOCH'])
  const config = await loadConfig(values.config as string)
  process.stdout.write(
    `${values.config}: ok (${config.init.mode} init, ${config.mappings.length} mapping${config.mappings.length === 1 ? '' : 's'})\n`
  )
  return EXIT_OK
}

async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1)
  if (values.help) return help()
  const records = await inspectArchive(positionals[0] as string)
  process.stdout.write(values.json ? `${JSON.stringify(records, null, 2)}\n` : `${formatListing(records)}\n`)
  return EXIT_OK
}

function help(): number {
  process.stdout.write(`${USAGE}\n`)
  return EXIT_OK
}
