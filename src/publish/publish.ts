/**
 * Publishing a tag's release: find or create it as a draft, upload the assets one by
 * one (replacing earlier copies), check that GitHub lists each with our digest, then
 * publish. Running it again leaves the same single release with one copy of each asset.
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
import { makeLatestFor } from './latest.js'
import { findOrCreateDraft } from './release-target.js'
import type { MakeLatest, Release, ReleaseAsset, ReleaseUpdate, Releaser } from './releaser.js'
import { DEFAULT_RETRY_POLICY, realClock, type RetryContext, type RetryPolicy } from './retry.js'
import { uploadAsset } from './upload.js'
import {
  DEFAULT_VERIFY_POLICY,
  verifyUploadedAssets,
  type VerifiedAsset,
  type VerifyPolicy
} from './verify.js'

export type { PublishAsset } from './assets.js'

export interface PublishRequest {
  tag: string
  /** The release title; GitHub shows the tag when absent. */
  name?: string | undefined
  /**
   * Our notes, kept between fledge-action markers so a re-run replaces only them.
   * Undefined: no block (release-notes: false).
   */
  notes?: string | undefined
  /**
   * The author's own text (release-body, body-path), set explicitly: it is the
   * body outside our block, on create and on update. Undefined: an existing
   * release's text outside our block is left as it is.
   */
  authorBody?: string | undefined
  /**
   * GitHub's generated notes (what changed since the previous release) after the
   * author's text, when this run creates the release, as GitHub's own form does.
   */
  generateReleaseNotes?: boolean | undefined
  /**
   * Flags the author set explicitly; undefined leaves an existing release's flag as it
   * is (a new release: not a draft, not a pre-release).
   */
  draft?: boolean | undefined
  prerelease?: boolean | undefined
  /**
   * Undefined: a release published by this run becomes Latest only if no higher
   * version is Latest already (see ./latest.ts); an already published one is left.
   */
  makeLatest?: MakeLatest | undefined
  /**
   * Upload to this existing release (a `release` event's) instead of the tag's: no
   * release is created, and its flags, name and draft state are left as they are.
   */
  releaseId?: number | undefined
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
  /** How long to wait for GitHub to list the uploads with their digests. */
  verify?: Partial<VerifyPolicy> | undefined
}

export interface PublishedAsset {
  name: string
  id: number
  /** The download URL GitHub reports once the release is published. */
  url: string
  /** `sha256:<hex>` of the file built, equal to the digest GitHub lists for it. */
  digest: string
  size: number
}

export interface PublishResult {
  releaseId: number
  /** The release is still a draft (draft: true). */
  draft: boolean
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
  const eventRelease = request.releaseId
  const { release, created } =
    eventRelease !== undefined
      ? {
          release: await callGitHub(`get release ${request.tag} (id ${eventRelease})`, context, () =>
            releaser.getRelease(eventRelease)
          ),
          created: false
        }
      : await findOrCreateDraft(
          releaser,
          {
            tagName: request.tag,
            name: request.name,
            body: composeBody(request.authorBody, undefined, request.notes),
            draft: true,
            prerelease: request.prerelease ?? false,
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
  for (const file of files) {
    const reply = await withPublishErrors(`upload ${file.name} to release ${request.tag}`, () =>
      uploadAsset(releaser, release, file, existing, context)
    )
    // A digest in the reply that differs is reason enough to stop before the next upload.
    await rejectMismatch(releaser, context, file, reply)
  }
  // Only what GitHub lists, with our digest, counts as uploaded: never the upload reply.
  const verified = await verifyUploadedAssets(releaser, release, request.tag, files, context, {
    ...DEFAULT_VERIFY_POLICY,
    ...options.verify
  })

  const update =
    eventRelease !== undefined
      ? eventReleaseUpdate(release, request)
      : await finalUpdate(release, created, request, logger, {
          latest: () => callGitHub('get the latest release', context, () => releaser.latestRelease()),
          generatedNotes: () =>
            callGitHub(`generate release notes for ${request.tag}`, context, () =>
              releaser.generateNotes(request.tag, request.targetCommitish)
            )
        })
  const final =
    Object.keys(update).length === 0
      ? await callGitHub(`get release ${request.tag}`, context, () => releaser.getRelease(release.id))
      : await callGitHub(`publish release ${request.tag}`, context, () =>
          releaser.updateRelease(release.id, update)
        )
  logger.info(
    `${final.draft ? 'Updated draft' : 'Published'} release ${request.tag}: ${final.htmlUrl}`
  )

  return {
    releaseId: final.id,
    draft: final.draft,
    htmlUrl: final.htmlUrl,
    uploadUrl: final.uploadUrl,
    created,
    assets: verified.map((v) => publishedAsset(v, final))
  }
}

/** A verified asset, with the download URL of the published release (a draft's differ). */
function publishedAsset({ file, asset }: VerifiedAsset, final: Release): PublishedAsset {
  const current = final.assets.find((a) => a.id === asset.id) ?? asset
  return describeAsset(asset, file.sha256, current.browserDownloadUrl)
}

function describeAsset(asset: ReleaseAsset, sha256: string, url: string): PublishedAsset {
  return { name: asset.name, id: asset.id, url, digest: `sha256:${sha256}`, size: asset.size }
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
    return describeAsset(asset, file.sha256, asset.browserDownloadUrl)
  })
  logger.info(`Release ${tag} is immutable and already holds these exact files; nothing to do`)
  return {
    releaseId: release.id,
    draft: release.draft,
    htmlUrl: release.htmlUrl,
    uploadUrl: release.uploadUrl,
    created: false,
    assets
  }
}

/**
 * Only what the author asked for: name and flags when set, our block of the body, and
 * draft=false for a draft (unless a draft was asked for). "Latest" is sent when this run
 * publishes the release, by version unless set (never for an already published one).
 */
async function finalUpdate(
  release: Release,
  created: boolean,
  request: PublishRequest,
  logger: Logger,
  github: { latest: () => Promise<Release | undefined>; generatedNotes: () => Promise<string> }
): Promise<ReleaseUpdate> {
  const update: ReleaseUpdate = {}
  if (request.name !== undefined) update.name = request.name
  if (created && request.generateReleaseNotes) {
    update.body = composeBody(request.authorBody, await github.generatedNotes(), request.notes)
  } else {
    if (request.generateReleaseNotes) {
      logger.info(`Release ${request.tag} already exists: generated notes are added only when this run creates the release`)
    }
    const body = updatedBody(release, request)
    if (body !== undefined && body !== release.body) update.body = body
  }
  if (request.prerelease !== undefined) update.prerelease = request.prerelease
  const publishing = release.draft && request.draft !== true
  if (release.draft) update.draft = request.draft === true
  else if (request.draft === true)
    logger.warn(`Release ${request.tag} is already published; leaving it published`)
  // GitHub: drafts cannot be made latest; pre-releases never are.
  if (request.draft === true || (request.prerelease ?? release.prerelease)) return update
  if (request.makeLatest !== undefined) update.makeLatest = request.makeLatest
  else if (publishing) {
    const current = await github.latest()
    update.makeLatest = makeLatestFor(request.tag, current?.tagName)
    if (update.makeLatest === 'false')
      logger.info(`Not making ${request.tag} Latest: ${current?.tagName} is a higher version`)
  }
  return update
}

/** A release someone else made (a `release` event): only its body, as asked. */
function eventReleaseUpdate(release: Release, request: PublishRequest): ReleaseUpdate {
  const body = updatedBody(release, request)
  return body === undefined || body === release.body ? {} : { body }
}

/** The author's text set explicitly replaces the text outside our block; otherwise only the block changes. */
function updatedBody(release: Release, request: PublishRequest): string | undefined {
  if (request.authorBody !== undefined) return composeBody(request.authorBody, undefined, request.notes)
  return request.notes === undefined ? undefined : mergeReleaseBody(release.body ?? '', request.notes)
}

/** The author's text, then GitHub's generated notes, then our block. */
function composeBody(author: string | undefined, generated: string | undefined, notes: string | undefined): string {
  const text = [author, generated]
    .filter((part): part is string => part !== undefined && part.trim() !== '')
    .map((part) => part.trimEnd())
    .join('\n\n')
  return notes === undefined ? text : mergeReleaseBody(text, notes)
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
