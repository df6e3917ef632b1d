import * as path from 'node:path'
import { bootImage, type BootResult } from '../boot/smoke.js'
import { obtainKernel } from '../boot/kernel-source.js'
import { build, type BuildResult } from '../build.js'
import type { Logger } from '../log.js'
import { planFromTemplate, writePluginManifest, type ManifestPlan, type WrittenManifest } from '../manifest/index.js'
import { writeFileAtomic } from '../manifest/atomic.js'
import { GitHubReleaser, publishRelease, type PublishAsset, type PublishResult } from '../publish/index.js'
import { attestBuild, type Attester, type ProvenanceResult } from '../release/provenance.js'
import { makeBuildRecord } from '../release/record.js'
import { releaseNotes, sha256sums } from '../release/notes.js'
import { sha256File } from '../hash.js'
import { toolVersion } from '../version.js'
import { checkSizeBudget } from './budget.js'
import { diffAgainstLatestRelease, type PreviousRelease } from './previous.js'
import { decidePublish, versionFromTag, type PublishDecision } from './event.js'
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

  const plan: ManifestPlan = inputs.manifest
    ? { kind: 'rewrite', file: path.resolve(baseDir, inputs.manifest) }
    : await planFromTemplate(path.join(path.dirname(configPath), 'manifest.toml'), output)
  const result = await build({
    configPath,
    outputPath: output,
    manifest: plan,
    sourceDateEpoch: inputs.sourceDateEpoch || env.sourceDateEpoch,
    useCache: inputs.cache,
    allowDynamic: inputs.allowDynamic,
    apiUrl: env.apiUrl,
    token: inputs.token || undefined,
    log
  })
  checkSizeBudget(result.archive.size, inputs.maxSize, result.entries)

  const artifactName = path.basename(output)
  const assetUrl = (name: string) =>
    decision.publish
      ? `${env.serverUrl.replace(/\/+$/, '')}/${env.repository}/releases/download/${encodeURIComponent(decision.tag)}/${encodeURIComponent(name)}`
      : undefined
  const manifestUrlValue =
    inputs.manifestUrl === 'keep' ? undefined : inputs.manifestUrl === 'release' ? assetUrl(artifactName) : inputs.manifestUrl
  const manifest = await writePluginManifest(
    plan,
    {
      sha256: result.archive.sha256,
      url: manifestUrlValue,
      version: inputs.versionFromTag && decision.tag ? versionFromTag(decision.tag) : undefined
    },
    log
  )

  let boot: BootResult | undefined
  if (inputs.smokeTest !== 'false') boot = await smokeTest(inputs, output, manifest, log)

  const recordPath = `${output}.build.json`
  const record = await makeBuildRecord(result, { baseDir, manifest })
  await writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`)
  const assets: PublishAsset[] = [{ path: output, name: artifactName, contentType: 'application/gzip', sha256: result.archive.sha256 }]
  if (manifest) assets.push({ path: manifest.path, name: path.basename(manifest.path), contentType: 'application/json' })
  assets.push({ path: recordPath, name: path.basename(recordPath), contentType: 'application/json' })
  const sumsPath = path.join(path.dirname(output), 'SHA256SUMS')
  await writeFileAtomic(sumsPath, sha256sums(await Promise.all(assets.map(async (a) => ({ name: a.name, sha256: a.sha256 ?? (await sha256File(a.path)) })))))
  assets.push({ path: sumsPath, name: 'SHA256SUMS', contentType: 'text/plain' })

  const outcome: ActionResult = { build: result, decision, manifest, recordPath, sumsPath, boot }
  if (manifest) outcome.manifestUrl = assetUrl(path.basename(manifest.path))
  if (inputs.attest) {
    const subjects = [{ name: artifactName, sha256: result.archive.sha256 }]
    if (manifest) subjects.push({ name: path.basename(manifest.path), sha256: await sha256File(manifest.path) })
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
  const body = inputs.releaseBody
    ? inputs.releaseBody
    : inputs.releaseNotes
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
          recordName: path.basename(recordPath)
        })
      : ''
  outcome.release = await publishRelease(
    releaser,
    {
      tag: decision.tag,
      name: inputs.releaseName || undefined,
      body,
      bodyMode: inputs.releaseBody || !inputs.releaseNotes ? 'keep' : 'merge',
      draft: inputs.draft,
      prerelease: inputs.prerelease,
      makeLatest: inputs.makeLatest,
      targetCommitish: env.sha || undefined,
      assets
    },
    { logger: log }
  )
  outcome.artifactUrl = outcome.release.assets.find((a) => a.name === artifactName)?.url
  if (manifest) outcome.manifestUrl = outcome.release.assets.find((a) => a.name === path.basename(manifest.path))?.url
  return outcome
}

async function smokeTest(inputs: ActionInputs, archive: string, manifest: WrittenManifest | undefined, log: Logger): Promise<BootResult> {
  const kernel = await obtainKernel(inputs.kernel || undefined, inputs.kernelSha256 || undefined, log)
  const health =
    inputs.smokeTest === 'health' ? healthFromManifest(manifest) : undefined
  const boot = await bootImage({
    archive,
    kernel,
    ...(inputs.bootExpect ? { expect: inputs.bootExpect } : {}),
    timeoutSeconds: inputs.bootTimeout,
    ...(manifest ? { manifest: manifest.json } : {}),
    ...(health ? { health } : {}),
    log
  })
  if (!boot.ok) {
    const { FledgeError } = await import('../errors.js')
    throw new FledgeError(`boot smoke test failed: ${boot.reason ?? 'unknown reason'}`, {
      key: 'smoke-test',
      fix: 'read the console tail above; see "Troubleshooting" in the README.'
    })
  }
  log.info(`Boot smoke test passed (${boot.accel}): marker after ${boot.markerMs ?? '?'} ms${boot.healthMs ? `, HTTP 200 after ${boot.healthMs} ms` : ''}`)
  return boot
}

function healthFromManifest(manifest: WrittenManifest | undefined) {
  const m = manifest?.manifest as { workload?: { base_url?: string }; health_check?: { endpoint?: string; timeout_ms?: number } } | undefined
  const base = m?.workload?.base_url
  if (!base || !m?.health_check?.endpoint) {
    throw new Error('smoke-test: health needs a manifest with workload.base_url and health_check.endpoint')
  }
  const url = new URL(base)
  return {
    guestPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    endpoint: m.health_check.endpoint,
    timeoutMs: m.health_check.timeout_ms || 30_000
  }
}
