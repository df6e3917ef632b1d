// Running our CLI: dist/cli/index.js (the shipped bundle) unless FLEDGE_CLI names another entry.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { REPO, WORK, exists, sha256File, timed } from './util.mjs'

let cli = process.env.FLEDGE_CLI
  ? path.resolve(process.env.FLEDGE_CLI)
  : path.join(REPO, 'dist', 'cli', 'index.js')

export function cliPath() {
  return cli
}

/** node's arguments before the CLI's own: a .ts entry (src/cli.ts) runs through the tests' TypeScript hooks. */
export function cliArgv() {
  return cli.endsWith('.ts')
    ? ['--import', path.join(REPO, '__tests__', 'support', 'ts-register.mjs'), cli]
    : [cli]
}

/**
 * The shipped bundle is copied aside first: `npm run package` starts with
 * `rm -rf dist`, and a rebuild in the middle of a run must not break it or
 * change what is measured. Returns what is measured, with its sha256.
 */
export async function prepareCli() {
  const original = cli
  if (!(await exists(original))) {
    throw new Error(
      `${original} does not exist: run \`npm run package\` first, or set FLEDGE_CLI to another entry.`
    )
  }
  if (!process.env.FLEDGE_CLI) {
    // Same layout as the repository: the bundle finds c/init.c at ../../c/.
    const snapshot = path.join(WORK, 'snapshot')
    await fs.rm(snapshot, { recursive: true, force: true })
    const bundleDir = path.join(snapshot, path.relative(REPO, path.dirname(original)))
    await fs.cp(path.dirname(original), bundleDir, { recursive: true })
    await fs.cp(path.join(REPO, 'c'), path.join(snapshot, 'c'), { recursive: true })
    cli = path.join(bundleDir, path.basename(original))
  }
  return { entry: original, ran: cli, sha256: await sha256File(cli) }
}

function cliEnv() {
  const env = { ...process.env }
  // Both pipelines stamp fledge's fixed 1704067200.
  delete env.SOURCE_DATE_EPOCH
  return env
}

/** Parses the summary `fledge-action build` prints on stdout. */
export function parseBuildOutput(stdout) {
  const get = (re) => stdout.match(re)?.[1]
  return {
    sha256: get(/checksum:\s+sha256:([0-9a-f]{64})/),
    size: Number(get(/size:\s+(\d+) bytes/)),
    contentSha256: get(/content sha256:\s+([0-9a-f]{64})/),
    contentSize: Number(get(/uncompressed cpio, (\d+) bytes/)),
    entries: Number(get(/entries:\s+(\d+)/))
  }
}

export async function buildOurs({ cwd, config, output }) {
  let result
  try {
    result = await timed([process.execPath, cli, 'build', '-c', config, '-o', output], {
      cwd,
      env: cliEnv()
    })
  } catch (error) {
    throw new Error(
      `our CLI (${cli}) failed to build ${config}.\n` +
        'If the shipped bundle is stale or broken, point FLEDGE_CLI at another entry ' +
        '(e.g. the tsc output of src/cli.ts, with FLEDGE_INIT_SOURCE=c/init.c).\n' +
        String(error.message ?? error),
      { cause: error }
    )
  }
  return { ...result, archive: parseBuildOutput(result.stdout) }
}
