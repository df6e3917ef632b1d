import { beforeAll, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { FledgeError } from '../../src/errors.js'
import { bootImage } from '../../src/boot/smoke.js'
import { encodeVolantManifest } from '../../src/manifest/volant-encode.js'
import { fetchTestKernel, makeImage, tempDir, testLog, type TestKernel } from './fixtures.js'

// Boots real images under QEMU: KVM when a test boot proves it works, else software emulation.
describe('bootImage (boot mode)', () => {
  let kernel: TestKernel
  let dir = ''

  beforeAll(() => {
    kernel = fetchTestKernel()
    dir = tempDir()
  }, 600_000)

  it('passes when the expected marker shows, and passes the manifest as volantd does', async () => {
    const archive = makeImage(dir, 'marker', { init: 'marker-init.sh' })
    const manifest = JSON.stringify({ name: 'demo', version: '1.0.0', runtime: 'demo-rt' })
    const result = await bootImage({
      archive,
      kernel: kernel.vmlinuz,
      expect: 'FLEDGE-FIXTURE-BOOTED',
      manifest,
      log: testLog
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.markerMs).toBeGreaterThan(0)
    expect(['kvm', 'tcg']).toContain(result.accel)

    // The init echoes /proc/cmdline: the guest saw what volantd would give it.
    const cmdline = /^cmdline: (.*)$/m.exec(result.consoleTail)?.[1] ?? ''
    expect(cmdline).toContain('volant.runtime=demo-rt')
    expect(cmdline).toContain('volant.plugin=demo')
    expect(cmdline).toContain('ip=10.0.2.15::10.0.2.2:255.255.255.0:demo:eth0:off')
    expect(cmdline).toBe(result.cmdline)
    const encoded = /volant\.manifest=(\S+)/.exec(cmdline)?.[1] ?? ''
    expect(encoded).toBe(encodeVolantManifest(manifest))
    expect(gunzipSync(Buffer.from(encoded, 'base64url')).toString('utf8')).toContain('"runtime":"demo-rt"')
  })

  it('with the default marker, passes an init that runs and powers off', async () => {
    const archive = makeImage(dir, 'default-marker', { init: 'marker-init.sh' })
    const result = await bootImage({ archive, kernel: kernel.vmlinuz, log: testLog })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.consoleTail).toContain('Run /init as init process')
  })

  it('with the default marker, fails an init that returns (the kernel kills the VM)', async () => {
    const archive = makeImage(dir, 'exiting', { init: 'exit-init.sh' })
    const result = await bootImage({ archive, kernel: kernel.vmlinuz, log: testLog })
    expect(result.ok).toBe(false)
    expect(result.reason).toMatch(
      /the guest failed: ".*Kernel panic - not syncing: Attempted to kill init/
    )
    expect(result.reason).toContain('FLEDGE-FIXTURE-EXITING')
  })

  it('fails an image without /init, with the kernel panic and the console tail in the reason', async () => {
    const archive = makeImage(dir, 'no-init', {})
    const result = await bootImage({
      archive,
      kernel: kernel.vmlinuz,
      expect: 'FLEDGE-FIXTURE-BOOTED',
      log: testLog
    })
    expect(result.ok).toBe(false)
    expect(result.reason).toMatch(/the guest failed: ".*Kernel panic/)
    expect(result.reason).toContain('Console, last 40 lines up to the failure:')
    expect(result.reason).toContain('VFS: Unable to mount root fs')
    expect(result.consoleTail.split('\n').length).toBeLessThanOrEqual(40)
    expect(result.markerMs).toBeUndefined()
  })

  it('fails an archive the kernel cannot unpack, naming the unpacking error', async () => {
    const archive = path.join(dir, 'garbage.cpio.gz')
    fs.writeFileSync(
      archive,
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x04]), randomBytes(4096)])
    )
    const result = await bootImage({ archive, kernel: kernel.vmlinuz, log: testLog })
    expect(result.ok).toBe(false)
    expect(result.reason).toMatch(/^the guest failed: ".*Initramfs unpacking failed: /)
  })

  it('fails on timeout when the marker never shows', async () => {
    const archive = makeImage(dir, 'no-marker', { init: 'http-init.sh', touch: ['etc/no-httpd'] })
    const result = await bootImage({
      archive,
      kernel: kernel.vmlinuz,
      expect: 'A-MARKER-NOBODY-PRINTS',
      timeoutSeconds: 15,
      log: testLog
    })
    expect(result.ok).toBe(false)
    expect(result.reason).toContain(
      'no "A-MARKER-NOBODY-PRINTS" on the console within the 15 s boot timeout'
    )
  })

  it('refuses a command line of 2048 bytes or more before launching anything', async () => {
    const archive = makeImage(dir, 'too-long', { init: 'marker-init.sh' })
    // Random bytes do not compress: the encoded manifest alone passes the limit.
    const filler = randomBytes(1600).toString('base64')
    // In a field volantd keeps: it drops unknown keys before it encodes.
    const manifest = JSON.stringify({ name: 'big', workload: { env: { FILLER: filler } } })
    const savedPath = process.env['PATH']
    // With no QEMU to be found, only a check made before launch can produce this error.
    process.env['PATH'] = ''
    try {
      const boot = bootImage({ archive, kernel: kernel.vmlinuz, manifest, log: testLog })
      await expect(boot).rejects.toThrow(FledgeError)
      await expect(boot).rejects.toThrow(
        /kernel command line is \d{4} bytes \(the encoded manifest takes \d+\)/
      )
    } finally {
      process.env['PATH'] = savedPath
    }
  })
})
