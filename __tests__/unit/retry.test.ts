import { describe, expect, it } from '@jest/globals'
import { silentLogger } from '../../src/log.js'
import {
  DEFAULT_RETRY_POLICY,
  DeadlineExceeded,
  RetriesExhausted,
  defaultRetryPolicy,
  retryDelayMs,
  retrying,
  serverWaitMs,
  type RetryContext
} from '../../src/retry.js'

const policy = { ...DEFAULT_RETRY_POLICY, attempts: 4, baseDelayMs: 1000, maxDelayMs: 4000, jitter: 0.5 }

describe('backoff with jitter', () => {
  it('takes up to `jitter` of each wait off at random; the random source is injectable', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs({ retry: true }, n, policy, () => 0))).toEqual([1000, 2000, 4000, 4000])
    expect([1, 2, 3].map((n) => retryDelayMs({ retry: true }, n, policy, () => 0.5))).toEqual([750, 1500, 3000])
    expect(retryDelayMs({ retry: true }, 1, { ...policy, jitter: 0 }, () => 0.99)).toBe(1000)
  })

  it('a wait the server asked for is not jittered, only capped', () => {
    expect(retryDelayMs({ retry: true, waitMs: 2500 }, 1, policy, () => 0.9)).toBe(2500)
    expect(retryDelayMs({ retry: true, waitMs: 10 ** 9 }, 1, policy)).toBe(policy.maxRateLimitWaitMs)
  })

  it('FLEDGE_RETRY_BASE_MS=0 makes every backoff instant', () => {
    expect(defaultRetryPolicy({ FLEDGE_RETRY_BASE_MS: '0' }).baseDelayMs).toBe(0)
    expect(defaultRetryPolicy({}).baseDelayMs).toBe(DEFAULT_RETRY_POLICY.baseDelayMs)
  })
})

describe('serverWaitMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z')
  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(serverWaitMs({ 'retry-after': '7' }, now)).toBe(7000)
    expect(serverWaitMs({ 'retry-after': 'Sun, 01 Mar 2026 12:00:09 GMT' }, now)).toBe(9000)
    expect(serverWaitMs({ 'retry-after': 'Sun, 01 Mar 2026 11:00:00 GMT' }, now)).toBe(0)
    expect(serverWaitMs({ 'retry-after': 'soon' }, now)).toBeUndefined()
  })
})

describe('the deadline', () => {
  const context = (deadlineMs: number): RetryContext => ({
    policy: { ...policy, deadlineMs, baseDelayMs: 0 },
    clock: { now: () => Date.now(), sleep: async () => {} },
    logger: silentLogger
  })

  it('aborts the attempt in flight through its signal', async () => {
    let seen: AbortSignal | undefined
    const rejection = retrying('slow call', context(200), () => ({ retry: true }), (_n, signal) => {
      seen = signal
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
    })
    await expect(rejection).rejects.toBeInstanceOf(RetriesExhausted)
    await expect(rejection).rejects.toMatchObject({ reason: 'deadline', attempts: 1, message: 'did not finish within 200 ms' })
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBeInstanceOf(DeadlineExceeded)
  }, 5_000)

  it('ends the wait even when the attempt ignores its signal', async () => {
    const rejection = retrying('deaf call', context(200), () => ({ retry: true }), () => new Promise<never>(() => {}))
    await expect(rejection).rejects.toMatchObject({ reason: 'deadline' })
  }, 5_000)

  it('is not spent by attempts that finish in time', async () => {
    let n = 0
    const result = await retrying('flaky call', context(60_000), () => ({ retry: true }), async () => {
      if (++n < 3) throw new Error('reset')
      return 'ok'
    })
    expect(result).toBe('ok')
    expect(n).toBe(3)
  })
})
