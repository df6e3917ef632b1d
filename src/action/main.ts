import * as core from '@actions/core'
import { githubApiUrl } from '../sources/agent.js'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { releaseFromPayload } from './event.js'
import { actionsLogger } from './logger.js'
import { readInputs } from './inputs.js'
import { runAction } from './run.js'
import { writeSummary } from './summary.js'
import { formatError, FledgeError, FledgeErrors } from '../errors.js'

/** The Action's face: inputs in, engine run, outputs and job summary out. */
export async function main(): Promise<void> {
  try {
    const inputs = readInputs()
    if (inputs.token) core.setSecret(inputs.token)
    if (inputs.agentToken) core.setSecret(inputs.agentToken)
    const env = process.env
    const result = await runAction(
      inputs,
      {
        eventName: env['GITHUB_EVENT_NAME'] ?? '',
        ref: env['GITHUB_REF'] ?? '',
        release: releaseFromPayload(readEventPayload(env['GITHUB_EVENT_PATH'])),
        repository: env['GITHUB_REPOSITORY'] ?? '',
        serverUrl: env['GITHUB_SERVER_URL'] ?? 'https://github.com',
        apiUrl: githubApiUrl(env),
        workspace: env['GITHUB_WORKSPACE'] ?? process.cwd(),
        sha: env['GITHUB_SHA'] ?? '',
        sourceDateEpoch: env['SOURCE_DATE_EPOCH']
      },
      actionsLogger
    )
    const b = result.build
    const outputs: Record<string, string | number | boolean | undefined> = {
      artifact: b.archive.path,
      sha256: b.archive.sha256,
      checksum: `sha256:${b.archive.sha256}`,
      size: b.archive.size,
      'content-sha256': b.archive.contentSha256,
      manifest: result.manifest?.path,
      'agent-version': b.agent?.tag ?? (b.agent ? b.agent.strategy : ''),
      'busybox-sha256': b.busybox.sha256,
      'build-record': result.recordPath,
      sha256sums: result.sumsPath,
      'release-id': result.release?.releaseId,
      'release-url': result.release?.htmlUrl,
      'html-url': result.release?.htmlUrl,
      'upload-url': result.release?.uploadUrl,
      assets: result.release
        ? JSON.stringify(result.release.assets.map((a) => ({ name: a.name, url: a.url, sha256: a.digest.replace(/^sha256:/, '') })))
        : undefined,
      'artifact-url': result.artifactUrl,
      'manifest-url': result.manifestUrl,
      'cache-hit': b.cacheHit,
      'boot-ms': result.boot?.markerMs,
      'attestation-id': result.provenance?.id,
      'attestation-url': result.provenance?.url,
      'health-ms': result.boot?.healthMs,
      'unpack-ms': result.boot?.cost?.unpackMs,
      'init-to-agent-ms': result.boot?.cost?.initToAgentMs
    }
    for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value === undefined ? '' : String(value))
    await writeSummary(result)
  } catch (error) {
    reportFailure(error)
  }
}

/** The event payload the runner wrote; none (or unreadable) outside a workflow. */
function readEventPayload(file: string | undefined): unknown {
  if (!file) return undefined
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown
  } catch {
    return undefined
  }
}

/**
 * One annotation per problem, placed on its file/line/column when known.
 * (core.setFailed would add a second, unplaced copy of the same message.)
 */
export function reportFailure(error: unknown, workspace = process.env['GITHUB_WORKSPACE'] ?? process.cwd()): void {
  const problems = error instanceof FledgeErrors ? error.errors : [error]
  for (const problem of problems) {
    core.error(formatError(problem), problem instanceof FledgeError ? annotationAt(problem, workspace) : {})
  }
  process.exitCode = 1 // not core.ExitCode.Failure: @github/local-action's stub of @actions/core has no ExitCode
  if (!(error instanceof FledgeError) && error instanceof Error && error.stack) core.debug(error.stack)
}

function annotationAt(error: FledgeError, workspace: string): core.AnnotationProperties {
  const { file, line, column } = error.location
  if (!file) return {}
  // GitHub places annotations by the path in the repository.
  const relative = path.relative(workspace, path.resolve(workspace, file))
  const where: core.AnnotationProperties = { file: relative && !relative.startsWith('..') ? relative.split(path.sep).join('/') : file }
  if (line !== undefined) where.startLine = line
  if (line !== undefined && column !== undefined) where.startColumn = column
  return where
}
