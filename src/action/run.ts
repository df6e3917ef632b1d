import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import { fileError, isFileSystemError } from '../user-files.js'
import type { BootResult } from '../boot/smoke.js'
import type { BuildResult } from '../build.js'
import type { Logger } from '../log.js'
import type { WrittenManifest } from '../manifest/index.js'
import { GitHubReleaser, publishRelease, type PublishAsset, type PublishResult } from '../publish/index.js'
import { attestBuild, type Attester, type ProvenanceResult } from '../release/provenance.js'
import { makeProduct } from '../release/product.js'
import { releaseNotes } from '../release/notes.js'
import { toolVersion } from '../version.js'
import { prepareRunner } from './prepare-runner.js'
import { diffAgainstLatestRelease, type PreviousRelease } from './previous.js'
import { decidePublish, versionFromTag, type EventRelease, type PublishDecision } from './event.js'
import type { ActionInputs } from './inputs.js'

export interface ActionEnvironment {
  eventName: string
  ref: string
  /** owner/repo */
  repository: string
  serverUrl: string
  apiUrl: string
  workspace: string
  sha: string
  sourceDateEpoch: string | undefined
  /** A `release` event's release. */
  release?: EventRelease | undefined
}

export interface ActionResult {
  build: BuildResult
  decision: PublishDecision
  manifest?: WrittenManifest | undefined
  manifestUrl?: string | undefined
  recordPath: string
  sumsPath: string
  boot?: BootResult | undefined
  release?: PublishResult | undefined
  artifactUrl?: string | undefined
  provenance?: ProvenanceResult | undefined
  /** Pull requests: what changed against the latest release's image. */
  previous?: PreviousRelease | undefined
  /** max-size, in bytes. */
  maxSize?: number | undefined
}

/** The Action's whole job, from inputs to a published release; main.ts only wires it to GitHub. */
export async function runAction(
  inputs: ActionInputs,
  env: ActionEnvironment,
  log: Logger,
  attester?: Attester
): Promise<ActionResult> {
  const baseDir = path.resolve(env.workspace, inputs.workingDirectory)
  const configPath = path.resolve(baseDir, inputs.config)
  const output = path.resolve(baseDir, inputs.output)
  const decision = decidePublish(inputs.publish, inputs.tag, env)
  log.info(decision.publish ? `Publishing release ${decision.tag}` : `Not publishing: ${decision.why}`)

  const artifactName = path.basename(output)
  const assetUrl = (name: string) =>
    decision.publish
      ? `${env.serverUrl.replace(/\/+$/, '')}/${env.repository}/releases/download/${encodeURIComponent(decision.tag)}/${encodeURIComponent(name)}`
      : undefined
  const authorBody = await readAuthorBody(inputs, baseDir, log)
  const runner = await prepareRunner({ smokeTest: inputs.smokeTest !== 'false', kernel: inputs.kernel }, log)
  const product = await makeProduct({
    configPath,
    outputPath: output,
    compression: inputs.compression,
    baseDir,
    sourceDateEpoch: inputs.sourceDateEpoch || env.sourceDateEpoch,
    useCache: inputs.cache,
    allowDynamic: inputs.allowDynamic,
    // volantvm/volant lives on github.com, also for a GHES repository's job.
    apiUrl: inputs.agentApiUrl,
    token: inputs.agentToken || undefined,
    maxSize: inputs.maxSize,
    files: inputs.files.trim() ? { patterns: inputs.files, failOnUnmatched: inputs.failOnUnmatchedFiles } : undefined,
    manifest: inputs.manifest
      ? { rewrite: path.resolve(baseDir, inputs.manifest) }
      : { template: path.join(path.dirname(configPath), 'manifest.toml') },
    manifestUrl:
      inputs.initramfsUrl === 'keep' ? undefined : inputs.initramfsUrl === 'release' ? assetUrl(artifactName) : inputs.initramfsUrl,
    manifestVersion: inputs.versionFromTag && decision.tag ? versionFromTag(decision.tag) : undefined,
    boot:
      inputs.smokeTest === 'false'
        ? undefined
        : {
            health: inputs.smokeTest === 'health',
            expect: inputs.bootExpect || undefined,
            timeoutSeconds: inputs.bootTimeout,
            kernel: runner.kernel ?? (inputs.kernel || undefined),
            kernelSha256: inputs.kernelSha256 || undefined
          },
    log
  })
  const result = product.build
  const manifest = product.manifest
  const recordPath = product.record?.path as string
  const sumsPath = product.sumsPath as string
  const assets: PublishAsset[] = product.files
  const boot = product.boot

  const outcome: ActionResult = { build: result, decision, manifest, recordPath, sumsPath, boot, maxSize: inputs.maxSize }
  if (manifest) outcome.manifestUrl = assetUrl(path.basename(manifest.path))
  if (inputs.attest) {
    // The image and the manifest: what a plugin user installs.
    const subjects = product.files.filter((f) => f.path === output || f.path === manifest?.path).map(({ name, sha256 }) => ({ name, sha256 }))
    outcome.provenance = await attestBuild(
      { subjects, token: inputs.token, repository: env.repository, serverUrl: env.serverUrl },
      attester
    )
    log.info(`Provenance attestation: ${outcome.provenance.url ?? outcome.provenance.id ?? 'created'}`)
  }
  if (!decision.publish) {
    if (env.eventName.startsWith('pull_request')) {
      outcome.previous = await diffAgainstLatestRelease({
        apiUrl: env.apiUrl,
        repository: env.repository,
        token: inputs.token,
        artifactName,
        current: output,
        log
      })
    }
    return outcome
  }

  const [owner, repo] = env.repository.split('/') as [string, string]
  const releaser = new GitHubReleaser({ token: inputs.token, owner, repo, baseUrl: env.apiUrl })
  const pluginName = (manifest?.manifest['name'] as string | undefined) ?? repo
  const notes = inputs.releaseNotes
    ? releaseNotes({
          pluginName,
          pluginVersion: (manifest?.manifest['version'] as string | undefined) ?? decision.tag,
          artifactName,
          sha256: result.archive.sha256,
          contentSha256: result.archive.contentSha256,
          size: result.archive.size,
          manifestUrl: manifest ? assetUrl(path.basename(manifest.path)) : undefined,
          artifactUrl: assetUrl(artifactName) as string,
          repository: env.repository,
          tag: decision.tag,
          toolVersion: toolVersion(),
          sourceDateEpoch: result.epoch,
          agentTag: result.agent ? (result.agent.tag ?? `${result.agent.strategy} sha256:${result.agent.sha256}`) : undefined,
          busyboxSha256: result.busybox.sha256,
          image: result.image ? { reference: result.image.reference, digest: result.image.digest } : undefined,
          otherFiles: product.extraFiles.map((f) => ({ name: f.name, sha256: f.sha256 })),
          rebuild: {
            artifactPath: repositoryPath(env.workspace, output),
            recordPath: repositoryPath(env.workspace, recordPath),
            recordUrl: assetUrl(path.basename(recordPath)) as string,
            serverUrl: env.serverUrl
          }
        })
    : undefined
  outcome.release = await publishRelease(
    releaser,
    {
      tag: decision.tag,
      name: inputs.releaseName || undefined,
      notes,
      authorBody,
      generateReleaseNotes: inputs.generateReleaseNotes,
      draft: inputs.draft,
      prerelease: inputs.prerelease,
      makeLatest: inputs.makeLatest,
      releaseId: decision.releaseId,
      targetCommitish: env.sha || undefined,
      assets
    },
    { logger: log }
  )
  outcome.artifactUrl = outcome.release.assets.find((a) => a.name === artifactName)?.url
  if (manifest) outcome.manifestUrl = outcome.release.assets.find((a) => a.name === path.basename(manifest.path))?.url
  return outcome
}

/** body-path's text (read before the build, so a wrong path fails first), else release-body, else none. */
async function readAuthorBody(inputs: ActionInputs, baseDir: string, log: Logger): Promise<string | undefined> {
  if (!inputs.bodyPath) return inputs.releaseBody || undefined
  if (inputs.releaseBody) log.warn('Both body-path and release-body are set; using body-path, as softprops/action-gh-release and ncipollo/release-action do')
  const file = path.resolve(baseDir, inputs.bodyPath)
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if (!isFileSystemError(error)) throw error
    throw fileError(error, file, { what: 'the body-path file', verb: 'read', key: 'body-path' })
  }
}

/** A path as the repository names it (forward slashes, from its root). */
function repositoryPath(workspace: string, file: string): string {
  return path.relative(workspace, file).split(path.sep).join('/')
}
