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
  it('is volantd’s line byte for byte: fixed parameters, ip= with the hostname, sorted volant.*', () => {
    const cmdline = buildCommandLine({
      manifestJson: '{"name":"demo","runtime":"demo"}',
      runtime: 'demo',
      plugin: 'demo',
      apiHost: '10.0.2.2',
      apiPort: 7777,
      network: QEMU_USER_NETWORK,
      vmName: 'Demo_VM-1'
    })
    const manifest = param(cmdline, 'volant.manifest')
    expect(cmdline).toBe(
      'console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042.noaux i8042.nokbd pci=lastbus=0 ' +
        'ip=10.0.2.15::10.0.2.2:255.255.255.0:demovm-1:eth0:off ' +
        `volant.api_host=10.0.2.2 volant.api_port=7777 volant.manifest=${manifest} volant.plugin=demo volant.runtime=demo`
    )
  })

  it('encodes the manifest as volantd does: base64url (no padding) of Go’s gzip of the re-marshalled struct', () => {
    const manifest = JSON.stringify({ name: 'ünïcode', version: '1.0.0', pad: '?>?>?>' })
    const first = buildCommandLine({ manifestJson: manifest })
    const encoded = param(first, 'volant.manifest') ?? ''
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/)
    const gzip = Buffer.from(encoded, 'base64url')
    // Go's gzip header: no name, mtime 0, XFL 0, OS 255 (unknown).
    expect(gzip.subarray(0, 10).toString('hex')).toBe('1f8b08000000000000ff')
    const json = gunzipSync(gzip).toString('utf8')
    expect(json).toContain('"name":"ünïcode"')
    expect(json).not.toContain('"pad"')
    expect(buildCommandLine({ manifestJson: manifest })).toBe(first)
  })

  it('leaves out what it is not given; diagnostics go after volantd’s parameters', () => {
    const base =
      'console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042.noaux i8042.nokbd pci=lastbus=0'
    expect(buildCommandLine({})).toBe(base)
    expect(buildCommandLine({ extra: ['loglevel=7'] })).toBe(`${base} loglevel=7`)
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
    // volantd drops unknown keys: the bulk must sit in a field it keeps.
    const manifest = JSON.stringify({
      name: 'big',
      workload: { env: { BLOB: randomBytes(1600).toString('base64') } }
    })
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
      /kernel command line is 2186 bytes; x86-64/
    )
  })
})
