import { describe, expect, it } from '@jest/globals'
import { clip, decodeBytes, escapeControls, showKey, showPath, showValue } from '../../src/display.js'

describe('how user text is shown in messages', () => {
  it('clips long text with its byte count, never splitting a surrogate pair', () => {
    expect(clip('abc', 5)).toBe('abc')
    expect(clip('x'.repeat(300))).toBe(`${'x'.repeat(200)}… (300 bytes)`)
    expect(clip(`${'a'.repeat(4)}😀`, 5)).toBe('aaaa… (8 bytes)')
  })

  it('escapes control and bidi characters', () => {
    expect(escapeControls('a\nb\tc\rd\u001b[0m\u007f\u0085\u202e')).toBe('a\\nb\\tc\\rd\\x1b[0m\\x7f\\x85\\u202e')
    expect(escapeControls('café 😀')).toBe('café 😀')
  })

  it('keeps bytes that are not UTF-8 distinct and shows them as \\xNN', () => {
    const name = decodeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2f, 0xc3, 0xa9, 0xff]))
    expect(name).toBe('caf\udce9/é\udcff')
    expect(showPath(Buffer.from([0x61, 0xe9]))).toBe('a\\xe9')
    expect(decodeBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80')
    expect(decodeBytes(Buffer.from('plain'))).toBe('plain')
  })

  it('shows values quoted and cut, keys bare or quoted', () => {
    expect(showValue('x'.repeat(1000))).toBe(`"${'x'.repeat(199)}… (1002 bytes)`)
    expect(showValue(5)).toBe('5')
    expect(showValue({ a: 1 })).toBe('{"a":1}')
    expect(showKey(['mappings', 'payload/a.b'])).toBe('mappings."payload/a.b"')
    expect(showKey(['__proto__', 'constructor'])).toBe('__proto__.constructor')
    expect(showKey(['a\nb'])).toBe('"a\\nb"')
  })
})
