/**
 * The one retry policy, for downloads (sources/http.ts) and GitHub API calls
 * (publish/): how many attempts, how long to wait between them, which server hints
 * to honour, and an overall deadline that also stops a transfer in flight.
 */
import type { Logger } from './log.js'

export interface RetryPolicy {
  /** Attempts per call or download, the first one included. */
  attempts: number
  /** Wait before the first retry; doubles with each further retry, up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** Share of each backoff wait (0–1) taken off at random, so clients retrying together spread out. */
  jitter: number
  /** The longest wait a `retry-after` or `x-ratelimit-reset` header may impose. */
  maxRateLimitWaitMs: number
  /** Time allowed for one call or download, all attempts, waits and transfers included. */
  deadlineMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  jitter: 0.5,
  maxRateLimitWaitMs: 120_000,
  deadlineMs: 15 * 60_000
}

/** DEFAULT_RETRY_POLICY, with the first wait from FLEDGE_RETRY_BASE_MS when set (0 makes retries instant). */
export function defaultRetryPolicy(env: Record<string, string | undefined> = process.env): RetryPolicy {
  const base = Number(env['FLEDGE_RETRY_BASE_MS'])
  const fromEnv = env['FLEDGE_RETRY_BASE_MS'] !== undefined && Number.isFinite(base) && base >= 0
  return { ...DEFAULT_RETRY_POLICY, ...(fromEnv ? { baseDelayMs: base } : {}) }
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
  /** 0 ≤ x < 1; Math.random unless a test makes the jitter predictable. */
  random?: (() => number) | undefined
}

/** What the caller's classifier says about one failure. */
export interface FailureVerdict {
  retry: boolean
  /** The server asked for this wait (Retry-After, rate-limit reset). */
  waitMs?: number | undefined
}

/** Thrown when a failure worth retrying outlasted the attempts or the deadline. */
export class RetriesExhausted<E = unknown> extends Error {
  constructor(
    readonly last: E,
    readonly attempts: number,
    readonly reason: 'attempts' | 'deadline'
  ) {
    const cause = last instanceof Error ? last.message : String(last)
    super(
      reason === 'deadline' && last instanceof DeadlineExceeded
        ? cause
        : `${cause} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`
    )
    this.name = 'RetriesExhausted'
  }
}

/** The overall deadline passed while an attempt was still running; it was aborted. */
export class DeadlineExceeded extends Error {
  constructor(readonly deadlineMs: number) {
    super(`did not finish within ${formatMs(deadlineMs)}`)
    this.name = 'DeadlineExceeded'
  }
}

/** HTTP statuses worth another try: 5xx, 408, 429, and GitHub's 403 rate limits. */
export function isTransientStatus(status: number, headers: Readonly<Record<string, string | undefined>>): boolean {
  return status >= 500 || status === 408 || isRateLimitStatus(status, headers)
}

/**
 * GitHub's rate limits: 429, and 403 with `retry-after` (secondary limit) or
 * `x-ratelimit-remaining: 0` (primary limit). Any other 403 is a permission problem.
 */
export function isRateLimitStatus(status: number, headers: Readonly<Record<string, string | undefined>>): boolean {
  return (
    status === 429 ||
    (status === 403 && (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0'))
  )
}

/** The wait a response asks for: `retry-after` (seconds or HTTP date), or GitHub's rate-limit reset. */
export function serverWaitMs(headers: Readonly<Record<string, string | undefined>>, now: number): number | undefined {
  const retryAfter = headers['retry-after']
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter)
    if (retryAfter.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
    const date = Date.parse(retryAfter)
    if (Number.isFinite(date)) return Math.max(0, date - now)
  }
  const reset = Number(headers['x-ratelimit-reset'])
  if (headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset)) {
    // Epoch seconds; one extra second because GitHub's reset time is rounded down.
    return Math.max(0, reset * 1000 - now + 1000)
  }
  return undefined
}

/** How long to wait before retry number `retry` (1 for the first retry). */
export function retryDelayMs(
  verdict: FailureVerdict,
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random
): number {
  if (verdict.waitMs !== undefined) return Math.min(verdict.waitMs, policy.maxRateLimitWaitMs)
  const backoff = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs)
  return Math.round(backoff * (1 - policy.jitter * random()))
}

/**
 * Runs `attempt` (numbered from 1) until it succeeds. Failures `classify` calls
 * retryable are retried with backoff, up to the policy's attempts and within its
 * deadline; anything else is rethrown at once. When the deadline passes during an
 * attempt, the attempt's signal aborts it and RetriesExhausted(reason 'deadline',
 * last: DeadlineExceeded) is thrown without waiting for the attempt to notice.
 */
export async function retrying<T>(
  what: string,
  context: RetryContext,
  classify: (error: unknown) => FailureVerdict,
  attempt: (attemptNumber: number, signal: AbortSignal) => Promise<T>
): Promise<T> {
  const { policy, clock, logger } = context
  const deadline = clock.now() + policy.deadlineMs
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await withDeadline(deadline - clock.now(), policy.deadlineMs, (signal) => attempt(attemptNumber, signal))
    } catch (error) {
      if (error instanceof DeadlineExceeded) throw new RetriesExhausted(error, attemptNumber, 'deadline')
      const verdict = classify(error)
      if (!verdict.retry) throw error
      if (attemptNumber >= policy.attempts) throw new RetriesExhausted(error, attemptNumber, 'attempts')
      const delay = retryDelayMs(verdict, attemptNumber, policy, context.random)
      if (clock.now() + delay >= deadline) throw new RetriesExhausted(error, attemptNumber, 'deadline')
      logger.warn(
        `${what} failed: ${error instanceof Error ? error.message : String(error)}; retrying in ${formatMs(delay)} (attempt ${attemptNumber + 1} of ${policy.attempts})`
      )
      await clock.sleep(delay)
    }
  }
}

async function withDeadline<T>(
  remainingMs: number,
  deadlineMs: number,
  run: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  const exceeded = new DeadlineExceeded(deadlineMs)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(exceeded)
      reject(exceeded)
    }, Math.max(0, remainingMs))
  })
  const running = run(controller.signal)
  // An attempt that ignores the signal may still settle later; nobody waits for it.
  running.catch(() => {})
  try {
    return await Promise.race([running, expired])
  } catch (error) {
    throw controller.signal.aborted ? exceeded : error
  } finally {
    clearTimeout(timer)
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`
}
