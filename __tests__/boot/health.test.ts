import { beforeAll, describe, expect, it } from '@jest/globals'
import { bootImage } from '../../src/boot/smoke.js'
import { fetchTestKernel, makeImage, tempDir, testLog, type TestKernel } from './fixtures.js'

// The image's init loads the kernel's virtio NIC modules, takes 10.0.2.15/24 and
// serves /www with busybox httpd on 8080; QEMU forwards a free 127.0.0.1 port to it.
describe('bootImage (health mode)', () => {
  let kernel: TestKernel
  let dir = ''

  beforeAll(() => {
    kernel = fetchTestKernel()
    dir = tempDir()
  }, 600_000)

  it('passes when the guest answers HTTP 200 on the health endpoint', async () => {
    const archive = makeImage(dir, 'httpd', { init: 'http-init.sh', modules: kernel.modules })
    const result = await bootImage({
      archive,
      kernel: kernel.vmlinuz,
      health: { guestPort: 8080, endpoint: '/healthz', timeoutMs: 60_000 },
      log: testLog
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.healthMs).toBeGreaterThan(0)
    expect(result.workloadMs).toBe(result.healthMs)
    // volantd's line (`quiet loglevel=1`), then only what the boot cost needs (boot/cost.ts).
    expect(result.cmdline).toMatch(/^console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042\.noaux i8042\.nokbd pci=lastbus=0 ip=\S+ volant\.api_host=\S+ volant\.api_port=\d+ printk\.time=1 loglevel=7 initramfs_async=0$/)
    expect(result.cost?.unpackMs).toBeGreaterThan(0)
  })

  it('fails with the console tail when nothing serves the endpoint', async () => {
    const archive = makeImage(dir, 'no-httpd', {
      init: 'http-init.sh',
      modules: kernel.modules,
      touch: ['etc/no-httpd']
    })
    const result = await bootImage({
      archive,
      kernel: kernel.vmlinuz,
      health: { guestPort: 8080, endpoint: '/healthz', timeoutMs: 15_000 },
      log: testLog
    })
    expect(result.ok).toBe(false)
    expect(result.healthMs).toBeUndefined()
    expect(result.reason).toMatch(
      /no HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/healthz \(last answer: [^)]*\) within 15000 ms of launch/
    )
    expect(result.reason).toContain('nothing in the guest accepted it on port 8080')
    expect(result.reason).toContain('FIXTURE: network up, no server started')
    expect(result.consoleTail).toContain('FIXTURE: network up, no server started')
  })
})
