import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { checkSizeBudget } from '../../src/image/budget.js'
import { decidePublish, versionFromTag } from '../../src/action/event.js'
import { parseSize, readInputs } from '../../src/action/inputs.js'
import { FledgeError } from '../../src/errors.js'
import type { Entry } from '../../src/image/entry.js'

describe('when to publish', () => {
  const push = (ref: string) => ({ eventName: 'push', ref })
  it('auto publishes tag pushes only', () => {
    expect(decidePublish('auto', '', push('refs/tags/v1.0.0'))).toEqual({ publish: true, tag: 'v1.0.0' })
    expect(decidePublish('auto', '', push('refs/heads/main'))).toMatchObject({
      publish: false,
      why: "a push run on refs/heads/main is not a tag push or release event, so publish: auto publishes nothing. To publish: push a tag (on: push: tags: ['v*']), create a release (on: release: types: [published]), or set publish: true and tag."
    })
    expect(decidePublish('auto', '', { eventName: 'workflow_dispatch', ref: 'refs/tags/v1' })).toMatchObject({ publish: false })
  })
  it('pull requests never publish, whatever the input says, and need no tag', () => {
    for (const mode of ['auto', 'true', 'false'] as const) {
      expect(decidePublish(mode, '', { eventName: 'pull_request', ref: 'refs/pull/1/merge' }).publish).toBe(false)
      expect(decidePublish(mode, 'v9', { eventName: 'pull_request_target', ref: 'refs/heads/x' }).publish).toBe(false)
    }
  })
  it('true needs a tag: the pushed one or the input', () => {
    expect(decidePublish('true', 'v2.0.0', push('refs/heads/main'))).toEqual({ publish: true, tag: 'v2.0.0' })
    expect(() => decidePublish('true', '', push('refs/heads/main'))).toThrow(/publish is true, but there is no tag/)
  })
  it('the tag input takes v1.2.0 and refs/tags/v1.2.0; another ref is refused with the fix', () => {
    const branch = push('refs/heads/main')
    expect(decidePublish('true', 'v1.2.0', branch)).toEqual({ publish: true, tag: 'v1.2.0' })
    expect(decidePublish('true', 'refs/tags/v1.2.0', branch)).toEqual({ publish: true, tag: 'v1.2.0' })
    expect(() => decidePublish('true', 'refs/heads/x', branch)).toThrow(
      'input tag is "refs/heads/x", a ref that is not a tag.'
    )
  })
  it('release events publish to that release; other release actions do not', () => {
    const release = (action: string) => ({ eventName: 'release', ref: 'refs/tags/v2.0.0', release: { action, id: 42, tagName: 'v2.0.0' } })
    for (const action of ['published', 'created', 'prereleased'])
      expect(decidePublish('auto', '', release(action))).toEqual({ publish: true, tag: 'v2.0.0', releaseId: 42 })
    expect(decidePublish('auto', '', release('deleted'))).toMatchObject({ publish: false })
  })
  it('false never publishes', () => {
    expect(decidePublish('false', '', push('refs/tags/v1.0.0')).publish).toBe(false)
  })
  it('version from tag drops a leading v before a digit only', () => {
    expect(versionFromTag('v1.2.3')).toBe('1.2.3')
    expect(versionFromTag('1.2.3')).toBe('1.2.3')
    expect(versionFromTag('vnext')).toBe('vnext')
  })
})

describe('inputs', () => {
  it('defaults when nothing is set', () => {
    const inputs = readInputs(() => '')
    expect(inputs).toMatchObject({ config: 'fledge.toml', output: 'plugin.cpio.gz', publish: 'auto', cache: true, smokeTest: 'false', initramfsUrl: 'release' })
    // Not set: not sent to GitHub (an existing release keeps its flags).
    expect([inputs.draft, inputs.prerelease, inputs.makeLatest]).toEqual([undefined, undefined, undefined])
    expect([inputs.agentApiUrl, inputs.agentToken]).toEqual(['https://api.github.com', ''])
  })
  it('flags set explicitly are kept, false included', () => {
    const set: Record<string, string> = { draft: 'false', prerelease: 'false', 'make-latest': 'legacy' }
    const inputs = readInputs((n) => set[n] ?? '')
    expect([inputs.draft, inputs.prerelease, inputs.makeLatest]).toEqual([false, false, 'legacy'])
  })
  it('a bad choice names the input and the allowed values', () => {
    expect(() => readInputs((n) => (n === 'publish' ? 'sometimes' : ''))).toThrow('input publish is "sometimes"; allowed: auto, true, false.')
    expect(() => readInputs((n) => (n === 'draft' ? 'yes' : ''))).toThrow(/input draft is "yes"/)
    expect(() => readInputs((n) => (n === 'smoke-test' ? 'ping' : ''))).toThrow(/allowed: false, boot, health/)
  })
  it.each([
    ['50MB', 50_000_000],
    ['20MiB', 20 * 1024 * 1024],
    ['1.5 GB', 1_500_000_000],
    ['1048576', 1048576],
    ['', undefined]
  ])('max-size %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })
  it('a bad max-size is refused', () => {
    expect(() => parseSize('big')).toThrow(/input max-size is "big"/)
  })
})

describe('size budget', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-budget-'))
  const file = (name: string, size: number): Entry => ({
    path: `usr/bin/${name}`,
    type: 'file',
    mode: 0o755,
    uid: 0,
    gid: 0,
    origin: `mapping ${name}`,
    source: { kind: 'path', path: path.join(dir, name), size }
  })
  const entries = Array.from({ length: 12 }, (_, i) => file(`bin${i}`, (i + 1) * 1_000_000))
  it('within budget passes; over budget fails with the ten largest entries', () => {
    expect(() => checkSizeBudget(40_000_000, 50_000_000, entries)).not.toThrow()
    expect(() => checkSizeBudget(60_000_000, undefined, entries)).not.toThrow()
    const error = (() => {
      try {
        checkSizeBudget(60_000_000, 50_000_000, entries)
      } catch (e) {
        return e as FledgeError
      }
      throw new Error('not refused')
    })()
    const text = error.format()
    expect(text).toMatch(/^max-size: the image is 60\.00 MB compressed, over the max-size budget of 50\.00 MB\. Largest entries: \/usr\/bin\/bin11 12\.00 MB, \/usr\/bin\/bin10 11\.00 MB/)
    expect(text).toContain('/usr/bin/bin2 3.00 MB.')
    expect(text).not.toContain('/usr/bin/bin1 2.00 MB')
    expect(text).toMatch(/Fix: strip binaries/)
  })
})
