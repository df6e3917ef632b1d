/**
 * Before a release is published, every uploaded asset must show up in GitHub's own
 * asset list with a digest equal to the file built. The upload reply is not enough:
 * GitHub has answered 201 for assets that then never appeared.
 */
import { FledgeError } from '../errors.js'
import { digestMatches, digestMismatchError, type PreparedAsset } from './assets.js'
import { callGitHub } from './github-call.js'
import type { Release, ReleaseAsset, Releaser } from './releaser.js'
import type { RetryContext } from './retry.js'

export interface VerifyPolicy {
  /** How many times the asset list is fetched before giving up, the first one included. */
  lists: number
  /** Wait before the second list; doubles with each further one. */
  firstDelayMs: number
}

/** Five lists over 1 + 2 + 4 + 8 = 15 s: GitHub computes digests within seconds. */
export const DEFAULT_VERIFY_POLICY: VerifyPolicy = { lists: 5, firstDelayMs: 1_000 }

export interface VerifiedAsset {
  file: PreparedAsset
  /** As GitHub lists it, digest equal to the file's sha256. */
  asset: ReleaseAsset
}

/**
 * Lists the release's assets until each of `files` is there, uploaded, with a digest.
 * A digest that differs deletes that asset and fails at once; an asset still missing
 * or without a digest after the last list fails, naming it.
 */
export async function verifyUploadedAssets(
  releaser: Releaser,
  release: Pick<Release, 'id' | 'draft'>,
  tag: string,
  files: readonly PreparedAsset[],
  context: RetryContext,
  policy: VerifyPolicy = DEFAULT_VERIFY_POLICY
): Promise<VerifiedAsset[]> {
  const lists = Math.max(1, policy.lists)
  let waitedMs = 0
  for (let list = 1; ; list++) {
    const listed = await callGitHub(`list the assets of release ${tag}`, context, () =>
      releaser.listAssets(release.id)
    )
    const verified: VerifiedAsset[] = []
    const missing: string[] = []
    const undigested: string[] = []
    for (const file of files) {
      const asset = listed.find((a) => a.name === file.name && a.state === 'uploaded')
      if (!asset) missing.push(file.name)
      else if (asset.digest === null) undigested.push(file.name)
      else if (!digestMatches(asset.digest, file.sha256)) {
        await callGitHub(`delete the mismatching asset ${file.name}`, context, () =>
          releaser.deleteAsset(asset.id)
        )
        throw digestMismatchError(file.name, asset.digest, file.sha256)
      } else verified.push({ file, asset })
    }
    if (missing.length === 0 && undigested.length === 0) return verified
    if (list >= lists)
      throw unverifiedError(tag, release.draft, missing, undigested, list, waitedMs)
    const delay = policy.firstDelayMs * 2 ** (list - 1)
    context.logger.info(
      `Waiting ${delay} ms for GitHub to list ${[...missing, ...undigested].join(', ')} with a digest (look ${list} of ${lists})`
    )
    await context.clock.sleep(delay)
    waitedMs += delay
  }
}

function unverifiedError(
  tag: string,
  draft: boolean,
  missing: readonly string[],
  undigested: readonly string[],
  lists: number,
  waitedMs: number
): FledgeError {
  const problems: string[] = []
  if (missing.length > 0)
    problems.push(
      `${quoted(missing)} ${missing.length === 1 ? 'is' : 'are'} missing from its asset list`
    )
  if (undigested.length > 0)
    problems.push(
      `${quoted(undigested)} ${undigested.length === 1 ? 'has' : 'have'} no digest to check`
    )
  const state = draft
    ? 'the release was left a draft'
    : 'the release was already published before this run, so it now lacks verified copies'
  return new FledgeError(
    `GitHub answered the upload, but after ${lists} looks over ${Math.round(waitedMs / 1000)} s ${problems.join(' and ')} on release ${tag}; ${state}.`,
    {
      key: missing[0] ?? undigested[0],
      fix: 're-run the job to upload again (publishing again is safe); if it keeps happening, check https://www.githubstatus.com'
    }
  )
}

const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ')
