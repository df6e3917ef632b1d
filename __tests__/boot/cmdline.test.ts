import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { FledgeError } from '../../src/errors.js'
import {
  assertCommandLineFits,
  buildCommandLine,
  QEMU_USER_NETWORK
} from '../../src/boot/cmdline.js'

function param(cmdline: string, key: string): string | undefined {
  return cmdline
    .split(' ')
    .find((p) => p.startsWith(`${key}=`))
    ?.slice(key.length + 1)
}

describe('buildCommandLine', () => {
  it('builds the parameters volantd passes, in its order', () => {
    const cmdline = buildCommandLine({
      manifestJson: '{"name":"demo"}',
      runtime: 'demo',
      plugin: 'demo',
      apiHost: '10.0.2.2',
      apiPort: 7777,
      network: QEMU_USER_NETWORK
    })
    expect(cmdline.split(' ').map((p) => p.split('=')[0])).toEqual([
      'console',
      'panic',
      'volant.manifest',
      'volant.runtime',
      'volant.plugin',
      'volant.api_host',
      'volant.api_port',
      'ip'
    ])
    expect(param(cmdline, 'console')).toBe('ttyS0')
    expect(param(cmdline, 'panic')).toBe('-1')
    expect(param(cmdline, 'volant.api_port')).toBe('7777')
    expect(param(cmdline, 'ip')).toBe('10.0.2.15::10.0.2.2:255.255.255.0::eth0:off')
  })

  it('encodes the manifest as base64url (no padding) of gzip(JSON), deterministically', () => {
    const manifest = JSON.stringify({ name: 'ünïcode', version: '1.0.0', pad: '?>?>?>' })
    const first = buildCommandLine({ manifestJson: manifest })
    const encoded = param(first, 'volant.manifest') ?? ''
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(gunzipSync(Buffer.from(encoded, 'base64url')).toString('utf8')).toBe(manifest)
    expect(buildCommandLine({ manifestJson: manifest })).toBe(first)
  })

  it('leaves out what it is not given', () => {
    expect(buildCommandLine({})).toBe('console=ttyS0 panic=-1')
    expect(buildCommandLine({ extra: ['quiet'] })).toBe('console=ttyS0 panic=-1 quiet')
  })

  it('refuses values the kernel would split or strip', () => {
    expect(() => buildCommandLine({ plugin: 'two words' })).toThrow(FledgeError)
    expect(() => buildCommandLine({ runtime: 'a"b' })).toThrow(/volant\.runtime "a\\"b" cannot go/)
    expect(() => buildCommandLine({ apiHost: '' })).toThrow(FledgeError)
  })
})

describe('command line length limit', () => {
  // The kernel's COMMAND_LINE_SIZE is 2048 with the terminating NUL: 2047 bytes boot, 2048 hang.
  it('accepts 2047 bytes and refuses 2048', () => {
    expect(() => assertCommandLineFits('x'.repeat(2047))).not.toThrow()
    expect(() => assertCommandLineFits('x'.repeat(2048))).toThrow(FledgeError)
  })

  it('counts bytes, not characters', () => {
    // 1024 two-byte characters: 1024 characters, 2048 bytes.
    expect(() => assertCommandLineFits('é'.repeat(1024))).toThrow(/is 2048 bytes/)
  })

  it('says how long the line is, how much the manifest takes, and why it matters', () => {
    const manifest = JSON.stringify({ name: 'big', blob: randomBytes(1600).toString('base64') })
    let error: unknown
    try {
      buildCommandLine({ manifestJson: manifest, network: QEMU_USER_NETWORK })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(FledgeError)
    const text = (error as FledgeError).format()
    expect(text).toMatch(
      /^volant\.manifest: kernel command line is \d+ bytes \(the encoded manifest takes \d+\); x86-64 kernels keep at most 2047/
    )
    expect(text).toContain('the guest hangs without a word')
    expect((error as FledgeError).fix).toContain('shrink the manifest')
    expect(text.split('\n')).toHaveLength(1)
  })

  it('explains an overlong line without a manifest too', () => {
    expect(() => buildCommandLine({ extra: ['x'.repeat(2100)] })).toThrow(
      /kernel command line is 2123 bytes; x86-64/
    )
  })
})
