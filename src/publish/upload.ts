/** One asset onto one release: replacing what is there, retried, within a deadline. */
import type { Logger } from '../log.js'
import type { PreparedAsset } from './assets.js'
import { ReleaseApiError, type Release, type ReleaseAsset, type Releaser } from './releaser.js'
import { retrying, type RetryContext } from './retry.js'

/**
 * Uploads `asset`, first deleting any asset of the same name in `existing` (a previous
 * run's, or the empty "starter" asset a broken-off upload leaves). Before each retry
 * the release's assets are listed afresh and a same-named leftover is deleted.
 */
export async function uploadAsset(
  releaser: Releaser,
  release: Pick<Release, 'id' | 'uploadUrl'>,
  asset: PreparedAsset,
  existing: readonly ReleaseAsset[],
  context: RetryContext
): Promise<ReleaseAsset> {
  const { logger } = context
  let recoveredFromConflict = false

  const send = (signal: AbortSignal): Promise<ReleaseAsset> =>
    releaser.uploadAsset(release, {
      filePath: asset.path,
      size: asset.size,
      name: asset.name,
      contentType: asset.contentType,
      label: asset.label,
      signal
    })

  return retrying(
    `upload of ${asset.name}`,
    context,
    async (attempt, signal) => {
      const leftovers = attempt === 1 ? existing : await releaser.listAssets(release.id)
      await deleteNamed(releaser, leftovers, asset.name, logger)
      logger.info(`Uploading ${asset.name} (${asset.size} bytes)`)
      try {
        return await send(signal)
      } catch (error) {
        // 422 already_exists: an asset of that name appeared after we looked (another
        // job, or a leftover GitHub listed late). Delete it and try once more.
        if (recoveredFromConflict || !isAlreadyExists(error)) throw error
        recoveredFromConflict = true
        logger.warn(`GitHub already has an asset named ${asset.name}; replacing it`)
        await deleteNamed(releaser, await releaser.listAssets(release.id), asset.name, logger)
        return await send(signal)
      }
    }
  )
}

async function deleteNamed(
  releaser: Releaser,
  assets: readonly ReleaseAsset[],
  name: string,
  logger: Logger
): Promise<void> {
  for (const asset of assets.filter((a) => a.name === name)) {
    logger.info(`Deleting the existing asset ${name} (id ${asset.id}, state ${asset.state})`)
    await releaser.deleteAsset(asset.id)
  }
}

const isAlreadyExists = (error: unknown): boolean =>
  error instanceof ReleaseApiError && error.status === 422 && error.codes.includes('already_exists')
