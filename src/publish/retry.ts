/** Which GitHub failures are worth another try, for the one retry policy in ../retry.ts. */
import {
  isRateLimitStatus,
  isTransientStatus,
  retrying as retryWith,
  serverWaitMs,
  type FailureVerdict,
  type RetryContext
} from '../retry.js'
import { ReleaseApiError } from './releaser.js'

export { DEFAULT_RETRY_POLICY, RetriesExhausted, realClock } from '../retry.js'
export type { Clock, RetryContext, RetryPolicy } from '../retry.js'

export function isRateLimited(error: ReleaseApiError): boolean {
  return error.status !== undefined && isRateLimitStatus(error.status, error.headers)
}

/** No response at all (reset, refused, timed out), a 5xx, a 408 or a rate limit. */
export function isTransient(error: ReleaseApiError): boolean {
  return error.status === undefined || isTransientStatus(error.status, error.headers)
}

/** A ReleaseApiError's verdict at `now`; anything else is not retried. */
export function gitHubVerdict(error: unknown, now: number): FailureVerdict {
  if (!(error instanceof ReleaseApiError) || !isTransient(error)) return { retry: false }
  return { retry: true, waitMs: serverWaitMs(error.headers, now) }
}

/** A GitHub call (numbered from 1, with the deadline's abort signal), retried when GitHub fails transiently. */
export function retrying<T>(
  what: string,
  context: RetryContext,
  attempt: (attemptNumber: number, signal: AbortSignal) => Promise<T>
): Promise<T> {
  return retryWith(what, context, (error) => gitHubVerdict(error, context.clock.now()), attempt)
}
