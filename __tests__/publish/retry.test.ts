import { describe, expect, it } from '@jest/globals'
import { silentLogger } from '../../src/log.js'
import { ReleaseApiError } from '../../src/publish/releaser.js'
import { retryDelayMs } from '../../src/retry.js'
import {
  DEFAULT_RETRY_POLICY,
  RetriesExhausted,
  gitHubVerdict,
  isTransient,
  retrying,
  type RetryContext
} from '../../src/publish/retry.js'

const policy = {
  ...DEFAULT_RETRY_POLICY,
  attempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 300,
  maxRateLimitWaitMs: 10_000,
  jitter: 0
}
// The publish side's delays: GitHub's verdict on a failure, then the one policy's wait.
const delay = (error: ReleaseApiError, retry: number, now: number) =>
  retryDelayMs(gitHubVerdict(error, now), retry, policy)
const failure = (status?: number, headers: Record<string, string> = {}) =>
  new ReleaseApiError(`failed ${status ?? 'network'}`, { status, headers })

describe('which failures are retried', () => {
  it.each([
    [undefined, {}, true],
    [500, {}, true],
    [502, {}, true],
    [408, {}, true],
    [429, {}, true],
    [403, { 'retry-after': '1' }, true],
    [403, { 'x-ratelimit-remaining': '0' }, true],
    [403, {}, false],
    [404, {}, false],
    [422, {}, false]
  ] as [number | undefined, Record<string, string>, boolean][])(
    'status %s %j → %s',
    (status, headers, expected) => {
      expect(isTransient(failure(status, headers))).toBe(expected)
    }
  )
})

describe('retryDelayMs', () => {
  it('doubles from the base delay up to the maximum', () => {
    expect([1, 2, 3, 4].map((n) => delay(failure(502), n, 0))).toEqual([
      100, 200, 300, 300
    ])
  })

  it('honours retry-after in seconds or as an HTTP date, capped', () => {
    const now = Date.parse('2026-03-01T12:00:00Z')
    expect(delay(failure(429, { 'retry-after': '3' }), 1, now)).toBe(3000)
    expect(
      delay(failure(429, { 'retry-after': 'Sun, 01 Mar 2026 12:00:05 GMT' }), 1, now)
    ).toBe(5000)
    expect(delay(failure(429, { 'retry-after': '600' }), 1, now)).toBe(10_000)
  })

  it('waits for x-ratelimit-reset when the primary rate limit is used up', () => {
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1000' }
    expect(delay(failure(403, headers), 1, 998_000)).toBe(3000)
    // A reset header alone, with requests left, is not a reason to wait.
    expect(delay(failure(502, { 'x-ratelimit-reset': '1000' }), 1, 0)).toBe(100)
  })
})

describe('retrying', () => {
  const context = (now: { t: number }, sleeps: number[]): RetryContext => ({
    policy,
    logger: silentLogger,
    clock: {
      now: () => now.t,
      sleep: async (ms) => {
        sleeps.push(ms)
        now.t += ms
      }
    }
  })

  it('returns the first success after transient failures', async () => {
    const sleeps: number[] = []
    const outcomes = [failure(502), failure(), 'ok']
    const result = await retrying('call', context({ t: 0 }, sleeps), async () => {
      const next = outcomes.shift()
      if (next instanceof Error) throw next
      return next
    })
    expect(result).toBe('ok')
    expect(sleeps).toEqual([100, 200])
  })

  it('rethrows a permanent failure at once', async () => {
    const sleeps: number[] = []
    const error = failure(404)
    await expect(
      retrying('call', context({ t: 0 }, sleeps), () => Promise.reject(error))
    ).rejects.toBe(error)
    expect(sleeps).toEqual([])
  })

  it('stops after the attempts allowed', async () => {
    let attempts = 0
    const rejection = retrying('call', context({ t: 0 }, []), () => {
      attempts++
      return Promise.reject(failure(503))
    })
    await expect(rejection).rejects.toBeInstanceOf(RetriesExhausted)
    await expect(rejection).rejects.toMatchObject({ attempts: 4, reason: 'attempts' })
    expect(attempts).toBe(4)
  })

  it('does not wait past the deadline', async () => {
    const sleeps: number[] = []
    const rejection = retrying(
      'call',
      { ...context({ t: 0 }, sleeps), policy: { ...policy, deadlineMs: 250 } },
      () => Promise.reject(failure(502))
    )
    await expect(rejection).rejects.toMatchObject({ reason: 'deadline', attempts: 2 })
    expect(sleeps).toEqual([100])
  })
})
