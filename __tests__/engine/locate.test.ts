import { describe, expect, it } from '@jest/globals'
import { locateKeys, splitKey } from '../../src/config/locate.js'

describe('key positions', () => {
  it('tracks tables, dotted and quoted keys, and skips multi-line values', () => {
    const text = [
      '\uFEFFversion = "1" # a = comment',
      'note = """',
      'key = not a key',
      '"""',
      'list = [',
      '  "x = y", # ] not the end',
      ']',
      '[source]',
      '  busybox_url = "a=b"',
      '[mappings]',
      '"payload/a.b" = "/x"',
      "'lit' = '/y'",
      'inline = { "k" = "v" }',
      'after = 1'
    ].join('\r\n')
    const at = locateKeys(text)
    expect(at.get('version')).toEqual({ line: 1, column: 1 })
    expect(at.has('key')).toBe(false)
    expect(at.get('list')).toEqual({ line: 5, column: 1 })
    expect(at.get('source.busybox_url')).toEqual({ line: 9, column: 3 })
    expect(at.get('mappings.payload/a.b')).toEqual({ line: 11, column: 1 })
    expect(at.get('mappings.lit')).toEqual({ line: 12, column: 1 })
    expect(at.get('mappings.after')).toEqual({ line: 14, column: 1 })
  })

  it('splits dotted keys, keeping dots inside quotes', () => {
    expect(splitKey('a."b.c".d')).toEqual(['a', 'b.c', 'd'])
    expect(splitKey(" 'x y' . z ")).toEqual(['x y', 'z'])
  })
})

describe('key positions for arrays of tables and escaped keys', () => {
  it('numbers [[x]] entries and decodes escapes in quoted keys', () => {
    const at = locateKeys(['[[network.expose]]', 'port = 1', '[[network.expose]]', 'port = 2', '[mappings]', '"a\\nb" = "/x"', '"p/a.b" = "/y"'].join('\n'))
    expect(at.get('network.expose')).toEqual({ line: 1, column: 1 })
    expect(at.get('network.expose[0].port')).toEqual({ line: 2, column: 1 })
    expect(at.get('network.expose[1]')).toEqual({ line: 3, column: 1 })
    expect(at.get('network.expose[1].port')).toEqual({ line: 4, column: 1 })
    expect(at.get('mappings."a\\nb"')).toEqual({ line: 6, column: 1 })
    expect(at.get('mappings.a\nb')).toEqual({ line: 6, column: 1 })
    expect(at.get('mappings."p/a.b"')).toEqual({ line: 7, column: 1 })
  })
})
