/**
 * Publishing a tag's release: find or create it as a draft, upload the assets one by
 * one (replacing earlier copies), publish, and check GitHub's digests. Running it
 * again leaves the same single release with one copy of each asset.
 */
import { FledgeError } from '../errors.js'
import { silentLogger, type Logger } from '../log.js'
import {
  digestMatches,
  digestMismatchError,
  prepareAssets,
  type PreparedAsset,
  type PublishAsset
} from './assets.js'
import { callGitHub, withPublishErrors } from './github-call.js'
import { mergeReleaseBody } from './release-body.js'
import { findOrCreateDraft } from './release-target.js'
import type { MakeLatest, Release, ReleaseAsset, ReleaseUpdate, Releaser } from './releaser.js'
import { DEFAULT_RETRY_POLICY, realClock, type RetryContext, type RetryPolicy } from './retry.js'
import { uploadAsset } from './upload.js'

export type { PublishAsset } from './assets.js'

export interface PublishRequest {
  tag: string
  /** The release title; GitHub shows the tag when absent. */
  name?: string | undefined
  /** Our generated notes. */
  body: string
  /**
   * 'merge' (default): the notes go between fledge-action markers, leaving the rest of
   * an existing body alone. 'keep': `body` is the author's own; an existing body is
   * not touched.
   */
  bodyMode?: 'merge' | 'keep' | undefined
  /** Leave the release a draft. */
  draft?: boolean | undefined
  prerelease?: boolean | undefined
  makeLatest?: MakeLatest | undefined
  /** Where GitHub creates the tag if it does not exist yet. */
  targetCommitish?: string | undefined
  assets: readonly PublishAsset[]
}

export interface PublishOptions {
  logger?: Logger | undefined
  retry?: Partial<RetryPolicy> | undefined
  /** Injected by tests to make backoff instant. */
  sleep?: ((ms: number) => Promise<void>) | undefined
  now?: (() => number) | undefined
}

export interface PublishedAsset {
  name: string
  id: number
  /** The download URL GitHub reports once the release is published. */
  url: string
  /** `sha256:<hex>` of the file built (equal to GitHub's digest when GitHub reports one). */
  digest: string
  size: number
}

export interface PublishResult {
  releaseId: number
  htmlUrl: string
  uploadUrl: string
  created: boolean
  assets: PublishedAsset[]
}

export async function publishRelease(
  releaser: Releaser,
  request: PublishRequest,
  options: PublishOptions = {}
): Promise<PublishResult> {
  const logger = options.logger ?? silentLogger
  const context: RetryContext = {
    policy: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    clock: { now: options.now ?? realClock.now, sleep: options.sleep ?? realClock.sleep },
    logger
  }
  const files = await prepareAssets(request.assets)
  const { release, created } = await findOrCreateDraft(
    releaser,
    {
      tagName: request.tag,
      name: request.name,
      body: request.bodyMode === 'keep' ? request.body : mergeReleaseBody('', request.body),
      draft: true,
      prerelease: request.prerelease,
      targetCommitish: request.targetCommitish
    },
    context
  )

  const existing = created
    ? []
    : await callGitHub(`list the assets of release ${request.tag}`, context, () =>
        releaser.listAssets(release.id)
      )
  if (release.immutable && !release.draft) {
    return unchangedImmutableRelease(release, files, existing, request.tag, logger)
  }

  // Assets go up one at a time: parallel uploads trip GitHub's secondary rate limits.
  const uploaded: { file: PreparedAsset; asset: ReleaseAsset }[] = []
  for (const file of files) {
    const asset = await withPublishErrors(`upload ${file.name} to release ${request.tag}`, () =>
      uploadAsset(releaser, release, file, existing, context)
    )
    // Check before publishing, so a corrupted upload is never published.
    if (asset.digest !== null) await rejectMismatch(releaser, context, file, asset)
    uploaded.push({ file, asset })
  }

  const final = await callGitHub(`publish release ${request.tag}`, context, () =>
    releaser.updateRelease(release.id, finalUpdate(release, request, logger))
  )
  logger.info(
    `${final.draft ? 'Updated draft' : 'Published'} release ${request.tag}: ${final.htmlUrl}`
  )

  return {
    releaseId: final.id,
    htmlUrl: final.htmlUrl,
    uploadUrl: final.uploadUrl,
    created,
    assets: await publishedAssets(releaser, context, uploaded, final)
  }
}

/**
 * The uploads as the published release shows them (a draft's download URLs change on
 * publishing). Digests GitHub did not report at upload time are checked here.
 */
async function publishedAssets(
  releaser: Releaser,
  context: RetryContext,
  uploaded: readonly { file: PreparedAsset; asset: ReleaseAsset }[],
  final: Release
): Promise<PublishedAsset[]> {
  const assets: PublishedAsset[] = []
  for (const { file, asset } of uploaded) {
    const current = final.assets.find((a) => a.id === asset.id) ?? asset
    if (asset.digest === null && current.digest === null) {
      context.logger.warn(
        `GitHub reports no digest for ${file.name}: could not check the upload against sha256:${file.sha256}`
      )
    } else if (asset.digest === null) {
      await rejectMismatch(releaser, context, file, current)
    }
    assets.push({
      name: current.name,
      id: current.id,
      url: current.browserDownloadUrl,
      digest: `sha256:${file.sha256}`,
      size: current.size
    })
  }
  return assets
}

/**
 * A published immutable release cannot change. Publishing the same files again is
 * fine (nothing to do); anything else is an error.
 */
function unchangedImmutableRelease(
  release: Release,
  files: readonly PreparedAsset[],
  existing: readonly ReleaseAsset[],
  tag: string,
  logger: Logger
): PublishResult {
  const assets = files.map((file): PublishedAsset => {
    const asset = existing.find((a) => a.name === file.name && a.state === 'uploaded')
    if (!asset?.digest || !digestMatches(asset.digest, file.sha256)) {
      const state = !asset
        ? 'has no asset'
        : asset.digest
          ? `has a different asset`
          : 'has an asset without a digest to compare'
      throw new FledgeError(
        `release ${tag} is published and immutable, and ${state} named "${file.name}" (built: sha256:${file.sha256}); it cannot be changed.`,
        { key: file.name, fix: 'publish under a new tag: an immutable release never changes' }
      )
    }
    return {
      name: asset.name,
      id: asset.id,
      url: asset.browserDownloadUrl,
      digest: `sha256:${file.sha256}`,
      size: asset.size
    }
  })
  logger.info(`Release ${tag} is immutable and already holds these exact files; nothing to do`)
  return {
    releaseId: release.id,
    htmlUrl: release.htmlUrl,
    uploadUrl: release.uploadUrl,
    created: false,
    assets
  }
}

/** Name, body, flags and "latest" as asked, and draft=false unless a draft was asked for. */
function finalUpdate(release: Release, request: PublishRequest, logger: Logger): ReleaseUpdate {
  const update: ReleaseUpdate = {}
  if (request.name !== undefined) update.name = request.name
  if (request.bodyMode !== 'keep') update.body = mergeReleaseBody(release.body ?? '', request.body)
  if (request.prerelease !== undefined) update.prerelease = request.prerelease
  if (release.draft) update.draft = request.draft === true
  else if (request.draft === true)
    logger.warn(`Release ${request.tag} is already published; leaving it published`)
  // GitHub: drafts cannot be made latest.
  if (request.makeLatest !== undefined && request.draft !== true)
    update.makeLatest = request.makeLatest
  return update
}

async function rejectMismatch(
  releaser: Releaser,
  context: RetryContext,
  file: PreparedAsset,
  asset: ReleaseAsset
): Promise<void> {
  if (asset.digest === null || digestMatches(asset.digest, file.sha256)) return
  await callGitHub(`delete the mismatching asset ${file.name}`, context, () =>
    releaser.deleteAsset(asset.id)
  )
  throw digestMismatchError(file.name, asset.digest, file.sha256)
}
