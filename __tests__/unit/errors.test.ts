import { describe, expect, it } from '@jest/globals'
import { FledgeError, FledgeErrors, formatError } from '../../src/errors.js'

describe('FledgeError', () => {
  it('formats file, position, key, cause and fix on one line', () => {
    const e = new FledgeError('unknown key.', {
      file: 'fledge.toml',
      line: 12,
      column: 1,
      key: 'init.mappings',
      fix: 'move it into a [mappings] table.'
    })
    expect(e.format()).toBe(
      'fledge.toml:12:1: init.mappings: unknown key. Fix: move it into a [mappings] table.'
    )
  })
  it('omits what it does not know', () => {
    expect(new FledgeError('boom').format()).toBe('boom')
    expect(formatError(new Error('plain'))).toBe('plain')
  })
  it('joins several errors one per line', () => {
    const all = new FledgeErrors([new FledgeError('a', { key: 'x' }), new FledgeError('b')])
    expect(all.format()).toBe('x: a\nb')
  })
})
