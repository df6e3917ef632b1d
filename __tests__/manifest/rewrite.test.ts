import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { rewriteManifest } from '../../src/manifest/rewrite.js'
import { validateManifest } from '../../src/manifest/validate.js'

const OLD_SUM = 'sha256:' + 'ab'.repeat(32)
const NEW_HEX = 'c0ffee'.repeat(10) + '1234'
const NEW_SUM = `sha256:${NEW_HEX}`
const NEW_URL = 'https://github.com/volantvm/caddy/releases/download/v0.2.0/plugin.cpio.gz'

/** [line number, before, after] for every line that differs; both texts must have the same line count. */
function changedLines(before: string, after: string, eol: string): [number, string, string][] {
  const a = before.split(eol)
  const b = after.split(eol)
  expect(b).toHaveLength(a.length)
  return a.flatMap((line, i): [number, string, string][] =>
    line === b[i] ? [] : [[i + 1, line, b[i] ?? '']]
  )
}

function thrown(run: () => unknown): FledgeError {
  try {
    run()
  } catch (error) {
    if (error instanceof FledgeError) return error
    throw error
  }
  throw new Error('expected a FledgeError')
}

describe('rewriteManifest keeps the author’s bytes', () => {
  // BOM, CRLF, tabs, odd spacing around colons, keys out of schema order,
  // nested arrays, no newline at the end of the file.
  const odd = [
    '\uFEFF{',
    '\t"workload": {',
    '\t\t"entrypoint": ["/usr/bin/caddy", "run"],',
    '\t\t"base_url"  :   "http://127.0.0.1:80",',
    '\t\t"type":"http"',
    '\t},',
    `\t"initramfs":{"checksum":"${OLD_SUM}","url" : "https://old.example/plugin.cpio.gz"},`,
    '\t"devices": { "matrix": [[1, 2], [3, [4, 5]]], "empty": [ ] },',
    '\t"version":   "0.0.1",',
    '\t"name": "caddy",',
    '\t"resources": {"memory_mb": 512, "cpu_cores": 1}',
    '}'
  ].join('\r\n')

  it('changes only the checksum, url and version values', () => {
    const out = rewriteManifest(odd, { checksum: NEW_SUM, url: NEW_URL, version: '0.2.0' })
    expect(changedLines(odd, out, '\r\n')).toEqual([
      // volar refuses a BOM (`invalid character 'ï'`): it is the one byte dropped
      [1, '\uFEFF{', '{'],
      [
        7,
        `\t"initramfs":{"checksum":"${OLD_SUM}","url" : "https://old.example/plugin.cpio.gz"},`,
        `\t"initramfs":{"checksum":"${NEW_SUM}","url" : "${NEW_URL}"},`
      ],
      [9, '\t"version":   "0.0.1",', '\t"version":   "0.2.0",']
    ])
    // every other byte, including CRLFs and the missing final newline
    expect(out).toBe(
      odd
        .slice(1)
        .replace(OLD_SUM, NEW_SUM)
        .replace('https://old.example/plugin.cpio.gz', NEW_URL)
        .replace('"0.0.1"', '"0.2.0"')
    )
    expect(out.startsWith('{\r\n')).toBe(true)
    expect(out.endsWith('}')).toBe(true)
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
  })

  it('leaves url and version alone when they are not given', () => {
    const out = rewriteManifest(odd, { checksum: NEW_SUM })
    expect(changedLines(odd, out, '\r\n').map(([line]) => line)).toEqual([1, 7])
    expect(out).toContain('"url" : "https://old.example/plugin.cpio.gz"')
    expect(out).toContain('"version":   "0.0.1"')
  })

  it('writes the checksum as sha256: + lowercase hex, from bare or upper-case input', () => {
    const out = rewriteManifest(odd, { checksum: NEW_HEX.toUpperCase() })
    expect(out).toContain(`"checksum":"${NEW_SUM}"`)
  })

  it('does not re-escape a value that already has the new meaning', () => {
    const text = '{"initramfs": {"url": "https:\\/\\/x.example\\/a.gz", "checksum": "x"}}\n'
    const out = rewriteManifest(text, { checksum: NEW_SUM, url: 'https://x.example/a.gz' })
    expect(out).toBe(
      `{"initramfs": {"url": "https:\\/\\/x.example\\/a.gz", "checksum": "${NEW_SUM}"}}\n`
    )
  })

  it('refuses a checksum that is not sha256', () => {
    expect(thrown(() => rewriteManifest(odd, { checksum: 'md5:abc' })).location.key).toBe(
      'checksum'
    )
  })
})

describe('rewriteManifest on the seeds’ manifests', () => {
  const seed = (name: string) =>
    readFileSync(join(process.cwd(), '__tests__/fixtures/manifest', name), 'utf8')

  it('caddy.json: the url and checksum lines change, the result still validates', () => {
    const text = seed('caddy.json')
    const out = rewriteManifest(text, { checksum: NEW_SUM, url: NEW_URL })
    expect(changedLines(text, out, '\n')).toEqual([
      [9, '    "url": "/root/caddy-plugin/plugin.cpio.gz",', `    "url": "${NEW_URL}",`],
      [
        10,
        '    "checksum": "cef98fd5798ce875631aa0c98613fe48005a892aac8fb6ee81535945ebb0aa09"',
        `    "checksum": "${NEW_SUM}"`
      ]
    ])
    expect(validateManifest(JSON.parse(out))).toEqual([])
  })

  it('myapp.json: the checksum joins the one-line initramfs object', () => {
    const text = seed('myapp.json')
    const out = rewriteManifest(text, { checksum: NEW_SUM })
    expect(changedLines(text, out, '\n')).toEqual([
      [
        8,
        '  "initramfs": { "url": "/path/to/plugin.cpio.gz" },',
        `  "initramfs": { "url": "/path/to/plugin.cpio.gz", "checksum": "${NEW_SUM}" },`
      ]
    ])
    // The seed's workload listens on 8080, kestrel's port: volant would install it, then halt.
    expect(validateManifest(JSON.parse(out)).map((p) => p.path)).toEqual(['$.workload.base_url'])
  })
})

describe('rewriteManifest inserts missing keys like their neighbours', () => {
  it('2-space indent, LF, trailing newline', () => {
    const text = [
      '{',
      '  "name": "myapp",',
      '  "initramfs": {',
      '    "url": "/path/to/plugin.cpio.gz"',
      '  },',
      '  "resources": { "cpu_cores": 1, "memory_mb": 512 }',
      '}',
      ''
    ].join('\n')
    expect(rewriteManifest(text, { checksum: NEW_SUM })).toBe(
      [
        '{',
        '  "name": "myapp",',
        '  "initramfs": {',
        '    "url": "/path/to/plugin.cpio.gz",',
        `    "checksum": "${NEW_SUM}"`,
        '  },',
        '  "resources": { "cpu_cores": 1, "memory_mb": 512 }',
        '}',
        ''
      ].join('\n')
    )
  })

  it('tabs and CRLF: a whole initramfs object and the version, each after its schema neighbour', () => {
    const text = [
      '{',
      '\t"name": "myapp",',
      '\t"runtime": "myapp",',
      '\t"workload": {',
      '\t\t"type": "http"',
      '\t}',
      '}',
      ''
    ].join('\r\n')
    expect(rewriteManifest(text, { checksum: NEW_SUM, url: NEW_URL, version: '1.2.3' })).toBe(
      [
        '{',
        '\t"name": "myapp",',
        '\t"version": "1.2.3",',
        '\t"runtime": "myapp",',
        '\t"initramfs": {',
        `\t\t"url": "${NEW_URL}",`,
        `\t\t"checksum": "${NEW_SUM}"`,
        '\t},',
        '\t"workload": {',
        '\t\t"type": "http"',
        '\t}',
        '}',
        ''
      ].join('\r\n')
    )
  })

  it('keeps a one-line object on one line', () => {
    const text = '{\n  "name": "myapp",\n  "initramfs": { "url": "/path/to/plugin.cpio.gz" }\n}\n'
    expect(rewriteManifest(text, { checksum: NEW_SUM })).toBe(
      `{\n  "name": "myapp",\n  "initramfs": { "url": "/path/to/plugin.cpio.gz", "checksum": "${NEW_SUM}" }\n}\n`
    )
  })

  it('fills an empty initramfs object with the file’s 4-space indent', () => {
    const text = '{\n    "name": "a",\n    "initramfs": {}\n}'
    expect(rewriteManifest(text, { checksum: NEW_SUM, url: NEW_URL })).toBe(
      `{\n    "name": "a",\n    "initramfs": {\n        "url": "${NEW_URL}",\n        "checksum": "${NEW_SUM}"\n    }\n}`
    )
  })

  it('copies a compact style (no spaces) for a minified manifest', () => {
    const text = '{"name":"a","runtime":"a"}'
    expect(rewriteManifest(text, { checksum: NEW_SUM, url: NEW_URL })).toBe(
      `{"name":"a","runtime":"a","initramfs":{"url":"${NEW_URL}","checksum":"${NEW_SUM}"}}`
    )
  })
})

describe('rewriteManifest errors name the file and position', () => {
  it('invalid JSON: line and column of the problem', () => {
    const text = '{\n  "name": "x",\n  "version": "1"\n  "initramfs": {}\n}\n'
    const error = thrown(() => rewriteManifest(text, { checksum: NEW_SUM }, 'manifest/caddy.json'))
    expect(error.format()).toMatch(/^manifest\/caddy\.json:4:3: invalid JSON: expected ","\. Fix: /)
  })

  it('a trailing comma is named as such', () => {
    const text = '{\n  "name": "x",\n}'
    const error = thrown(() => rewriteManifest(text, { checksum: NEW_SUM }, 'm.json'))
    expect(error.location).toMatchObject({ file: 'm.json', line: 3, column: 1 })
    expect(error.message).toContain('trailing comma')
  })

  it('comments are refused (volantd reads strict JSON)', () => {
    const text = '{\n  "name": "x", // the name\n  "initramfs": {"url": "/a"}\n}'
    const error = thrown(() => rewriteManifest(text, { checksum: NEW_SUM }, 'm.json'))
    expect(error.location).toMatchObject({ line: 2, column: 16 })
    expect(error.message).toContain('comments')
  })

  it('the position ignores a BOM', () => {
    const error = thrown(() => rewriteManifest('\uFEFF{"a": }', { checksum: NEW_SUM }, 'm.json'))
    expect(error.location).toMatchObject({ line: 1, column: 7 })
  })

  it('a rootfs manifest without initramfs', () => {
    const text = '{\n  "name": "nginx",\n  "rootfs": { "url": "https://x/rootfs.img" }\n}\n'
    const error = thrown(() => rewriteManifest(text, { checksum: NEW_SUM, url: NEW_URL }, 'n.json'))
    expect(error.location).toMatchObject({ file: 'n.json', line: 3, column: 3, key: 'rootfs' })
    expect(error.fix).toContain('"initramfs"')
  })

  it('a manifest that is not an object', () => {
    const error = thrown(() => rewriteManifest('\n[1, 2]\n', { checksum: NEW_SUM }, 'a.json'))
    expect(error.format()).toMatch(
      /^a\.json:2:1: the manifest must be a JSON object, not an array\./
    )
  })

  it('initramfs that is not an object', () => {
    const error = thrown(() =>
      rewriteManifest('{"initramfs": "x"}', { checksum: NEW_SUM }, 'a.json')
    )
    expect(error.location).toMatchObject({ line: 1, column: 15, key: 'initramfs' })
  })

  it('no initramfs and no URL to create one', () => {
    const error = thrown(() => rewriteManifest('{"name": "a"}', { checksum: NEW_SUM }, 'a.json'))
    expect(error.location).toMatchObject({ file: 'a.json', key: 'initramfs' })
  })

  it('a key given twice (Go would read the last one, we would edit the first)', () => {
    const text = '{"initramfs": {"url": "/a"},\n "initramfs": {"url": "/b"}}'
    const error = thrown(() => rewriteManifest(text, { checksum: NEW_SUM }, 'a.json'))
    expect(error.location).toMatchObject({ line: 2, column: 2, key: 'initramfs' })
  })
})
