/** Retrying GitHub calls: which failures are worth another try, and how long to wait. */
import type { Logger } from '../log.js'
import { ReleaseApiError } from './releaser.js'

export interface RetryPolicy {
  /** Attempts per call or upload, the first one included. */
  attempts: number
  /** Wait before the first retry; doubles with each further retry. */
  baseDelayMs: number
  maxDelayMs: number
  /** The longest wait a `retry-after` or `x-ratelimit-reset` header may impose. */
  maxRateLimitWaitMs: number
  /** Time allowed for one upload, all its attempts and waits included. */
  uploadDeadlineMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 30_000,
  maxRateLimitWaitMs: 120_000,
  uploadDeadlineMs: 15 * 60_000
}

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))
}

export interface RetryContext {
  policy: RetryPolicy
  clock: Clock
  logger: Logger
}

/** Thrown when a transient failure outlasted the attempts or the deadline. */
export class RetriesExhausted extends Error {
  constructor(
    readonly last: ReleaseApiError,
    readonly attempts: number,
    readonly reason: 'attempts' | 'deadline'
  ) {
    super(`${last.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`)
    this.name = 'RetriesExhausted'
  }
}

/**
 * GitHub's rate limits: 429, and 403 with `retry-after` (secondary limit) or
 * `x-ratelimit-remaining: 0` (primary limit). Any other 403 is a permission problem.
 */
export function isRateLimited(error: ReleaseApiError): boolean {
  return (
    error.status === 429 ||
    (error.status === 403 &&
      (error.headers['retry-after'] !== undefined ||
        error.headers['x-ratelimit-remaining'] === '0'))
  )
}

/** No response at all (reset, refused, timed out), a 5xx, a 408 or a rate limit. */
export function isTransient(error: ReleaseApiError): boolean {
  return (
    error.status === undefined ||
    error.status >= 500 ||
    error.status === 408 ||
    isRateLimited(error)
  )
}

/** How long to wait before retry number `retry` (1 for the first retry). */
export function retryDelayMs(
  error: ReleaseApiError,
  retry: number,
  policy: RetryPolicy,
  now: number
): number {
  const rateLimitWait = rateLimitWaitMs(error, now)
  if (rateLimitWait !== undefined) return Math.min(rateLimitWait, policy.maxRateLimitWaitMs)
  return Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs)
}

function rateLimitWaitMs(error: ReleaseApiError, now: number): number | undefined {
  const retryAfter = error.headers['retry-after']
  if (retryAfter !== undefined) {
    // Seconds, or an HTTP date.
    const seconds = Number(retryAfter)
    if (retryAfter.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
    const date = Date.parse(retryAfter)
    if (Number.isFinite(date)) return Math.max(0, date - now)
  }
  const reset = Number(error.headers['x-ratelimit-reset'])
  if (error.headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset)) {
    // Epoch seconds; one extra second because GitHub's reset time is rounded down.
    return Math.max(0, reset * 1000 - now + 1000)
  }
  return undefined
}

/**
 * Runs `attempt` (numbered from 1) until it succeeds. Transient failures are retried
 * with backoff, up to the policy's attempts and before `deadline` (epoch ms); anything
 * else is rethrown at once.
 */
export async function retrying<T>(
  what: string,
  context: RetryContext,
  attempt: (attemptNumber: number) => Promise<T>,
  deadline?: number
): Promise<T> {
  const { policy, clock, logger } = context
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error) {
      if (!(error instanceof ReleaseApiError) || !isTransient(error)) throw error
      if (attemptNumber >= policy.attempts)
        throw new RetriesExhausted(error, attemptNumber, 'attempts')
      const delay = retryDelayMs(error, attemptNumber, policy, clock.now())
      if (error.timedOut || (deadline !== undefined && clock.now() + delay >= deadline)) {
        throw new RetriesExhausted(error, attemptNumber, 'deadline')
      }
      logger.warn(
        `${what} failed: ${error.message}; retrying in ${Math.round(delay)} ms (attempt ${attemptNumber + 1} of ${policy.attempts})`
      )
      await clock.sleep(delay)
    }
  }
}
