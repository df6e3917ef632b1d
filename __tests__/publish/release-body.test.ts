import { describe, expect, it } from '@jest/globals'
import { BODY_BEGIN, BODY_END, mergeReleaseBody } from '../../src/publish/release-body.js'

const block = (text: string) => `${BODY_BEGIN}\n${text}\n${BODY_END}`

describe('mergeReleaseBody', () => {
  it('is just our block for an empty or blank body', () => {
    expect(mergeReleaseBody('', 'notes')).toBe(block('notes'))
    expect(mergeReleaseBody('  \n', 'notes')).toBe(block('notes'))
  })

  it("appends our block after the author's text", () => {
    expect(mergeReleaseBody('Highlights:\n- fast\n\n', 'notes')).toBe(
      `Highlights:\n- fast\n\n${block('notes')}`
    )
  })

  it('replaces only what is between the markers', () => {
    const existing = `Intro\n\n${block('old notes')}\n\nOutro, written later`
    expect(mergeReleaseBody(existing, 'new notes')).toBe(
      `Intro\n\n${block('new notes')}\n\nOutro, written later`
    )
  })

  it('is idempotent', () => {
    const once = mergeReleaseBody('Author text', 'notes')
    expect(mergeReleaseBody(once, 'notes')).toBe(once)
  })

  it('keeps Windows line endings around the block (GitHub stores web edits with CRLF)', () => {
    const existing = `Intro\r\n\r\n${BODY_BEGIN}\r\nold\r\n${BODY_END}\r\nOutro`
    expect(mergeReleaseBody(existing, 'new')).toBe(`Intro\r\n\r\n${block('new')}\r\nOutro`)
  })

  it("does not let a stray begin marker swallow the author's text", () => {
    const existing = `${BODY_BEGIN} pasted by mistake\nAuthor text\n\n${block('old')}`
    expect(mergeReleaseBody(existing, 'new')).toBe(
      `${BODY_BEGIN} pasted by mistake\nAuthor text\n\n${block('new')}`
    )
  })

  it('appends a block when only an end marker is present, and replaces that block next time', () => {
    const existing = `Text ${BODY_END} more`
    const merged = mergeReleaseBody(existing, 'one')
    expect(merged).toBe(`${existing}\n\n${block('one')}`)
    expect(mergeReleaseBody(merged, 'two')).toBe(`${existing}\n\n${block('two')}`)
  })

  it('trims the generated notes', () => {
    expect(mergeReleaseBody('', '\n\nnotes\n\n')).toBe(block('notes'))
  })
})

describe('which version may become Latest', () => {
  it('a lower version never does; equal or higher does; non-versions leave it to GitHub', async () => {
    const { makeLatestFor } = await import('../../src/publish/latest.js')
    expect(makeLatestFor('v1.0.1', 'v2.0.0')).toBe('false')
    expect(makeLatestFor('v1.0.0', 'v2.0.0')).toBe('false')
    expect(makeLatestFor('v2.0.1', 'v2.0.0')).toBe('true')
    expect(makeLatestFor('v2.0.0', 'v2.0.0-rc.1')).toBe('true')
    expect(makeLatestFor('v2.0.0-rc.2', 'v2.0.0-rc.10')).toBe('false')
    expect(makeLatestFor('v10.0.0', 'v9.9.9')).toBe('true')
    expect(makeLatestFor('v1.0.0', undefined)).toBe('true')
    expect(makeLatestFor('nightly', 'v1.0.0')).toBe('legacy')
  })
})
