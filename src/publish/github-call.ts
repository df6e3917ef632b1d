/** Releaser calls whose failures surface as FledgeErrors. */
import { toPublishError } from './publish-errors.js'
import { ReleaseApiError } from './releaser.js'
import { retrying, type RetryContext } from './retry.js'

/**
 * A Releaser call, retried when GitHub fails transiently. `action` completes
 * "could not …" in error messages. Failures for which `keep` returns true are
 * rethrown as ReleaseApiError for the caller to handle.
 */
export async function callGitHub<T>(
  action: string,
  context: RetryContext,
  run: () => Promise<T>,
  keep?: (error: ReleaseApiError) => boolean
): Promise<T> {
  try {
    return await retrying(action, context, run)
  } catch (error) {
    if (error instanceof ReleaseApiError && keep?.(error)) throw error
    throw toPublishError(error, action)
  }
}

/** `run` (which does its own retrying), with its failures as FledgeErrors. */
export async function withPublishErrors<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw toPublishError(error, action)
  }
}
