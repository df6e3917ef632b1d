/** The one release for a tag: found (drafts included), or created as a draft. */
import { callGitHub } from './github-call.js'
import { toPublishError } from './publish-errors.js'
import { ReleaseApiError, type NewRelease, type Release, type Releaser } from './releaser.js'
import type { RetryContext } from './retry.js'

export interface ReleaseTarget {
  release: Release
  /** True when this run created it. */
  created: boolean
}

/**
 * Never leaves a second release for the tag. A draft is created so that assets go up
 * before publishing (immutable releases refuse uploads once published).
 */
export async function findOrCreateDraft(
  releaser: Releaser,
  draft: NewRelease,
  context: RetryContext
): Promise<ReleaseTarget> {
  const tag = draft.tagName
  const find = (): Promise<Release | undefined> =>
    callGitHub(`find the release for tag ${tag}`, context, () => releaser.findReleaseByTag(tag))

  const existing = await find()
  if (existing) {
    context.logger.info(`Found ${existing.draft ? 'draft ' : ''}release ${tag} (id ${existing.id})`)
    return { release: existing, created: false }
  }

  const creating = `create a draft release for tag ${tag}`
  let mine: Release
  try {
    mine = await callGitHub(
      creating,
      context,
      () => releaser.createRelease({ ...draft, draft: true }),
      (error) => error.status === 422
    )
  } catch (error) {
    if (!(error instanceof ReleaseApiError)) throw error
    // 422: another job (a matrix sibling) created it since we looked, or our own
    // earlier attempt did before its response was lost. Use that release.
    const winner = await find()
    if (!winner) throw toPublishError(error, creating)
    context.logger.info(`Release ${tag} was created concurrently (id ${winner.id}); using it`)
    return { release: winner, created: false }
  }

  // GitHub lets drafts share a tag, so two racing jobs may both have created one.
  // Everyone settles on the same release (see pickRelease); the other drafts go.
  const settled = await find()
  if (settled && settled.id !== mine.id) {
    context.logger.info(
      `Release ${tag} was also created by another job (id ${settled.id}); deleting ours (id ${mine.id})`
    )
    await callGitHub(`delete the duplicate draft release ${mine.id}`, context, () =>
      releaser.deleteRelease(mine.id)
    )
    return { release: settled, created: false }
  }
  context.logger.info(`Created draft release ${tag} (id ${mine.id})`)
  return { release: mine, created: true }
}
