/**
 * The boot cost from real boots: Debian's cloud kernel with the marker image (plain and
 * instruction-counted), and the real kestrel on the Volant-like test kernel, where the first
 * user-space line is kestrel's own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { buildCommandLine, QEMU_USER_NETWORK } from '../../src/boot/cmdline.js'
import { BOOT_COST_PARAMETERS } from '../../src/boot/cost.js'
import { bootImage } from '../../src/boot/smoke.js'
import { runCli } from '../support/cli.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { buildExample, volantRelease, volantTestKernel } from '../support/volant.js'
import { fetchTestKernel, makeImage, tempDir, testLog } from './fixtures.js'

const SUFFIX = ` ${BOOT_COST_PARAMETERS.join(' ')}`

/** A deterministic reordering, so that repeats of the hash do not compress. */
function shuffle(text: string): string {
  const chars = [...text]
  for (let i = chars.length - 1, seed = 7; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    const j = seed % (i + 1)
    ;[chars[i], chars[j]] = [chars[j] as string, chars[i] as string]
  }
  return chars.join('')
}

describe('boot cost on Debian’s cloud kernel (marker image)', () => {
  let dir = ''
  let kernel = ''
  let archive = ''

  beforeAll(() => {
    kernel = fetchTestKernel().vmlinuz
    dir = tempDir()
    archive = makeImage(dir, 'cost-marker', { init: 'marker-init.sh' })
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('with --icount: virtual ms from the kernel’s stamps, wall ms from the host, in boot order', async () => {
    const result = await bootImage({ archive, kernel, expect: 'FLEDGE-FIXTURE-BOOTED', icount: true, log: testLog })
    expect(result.reason).toBeUndefined()
    expect(result.costMissing).toBeUndefined()
    expect(result.accel).toBe('tcg')
    expect(result.icount).toBe(true)
    // volantd's line, then the three parameters the measurement needs, and nothing else.
    expect(result.cmdline).toMatch(/^console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042\.noaux i8042\.nokbd pci=lastbus=0 ip=\S+ volant\.api_host=10\.0\.2\.2 volant\.api_port=7777 printk\.time=1 loglevel=7 initramfs_async=0$/)
    const cost = result.cost
    expect(cost?.virtual?.unpackMs).toBeGreaterThan(0)
    expect(cost?.virtual?.startToInitMs).toBeGreaterThan(cost?.virtual?.unpackMs ?? Infinity)
    expect(cost?.unpackMs).toBeGreaterThan(0)
    expect(cost?.launchToInitMs).toBeGreaterThan(cost?.unpackMs ?? Infinity)
    // The marker init's first line echoes /proc/cmdline.
    expect(cost?.agentLine).toBe(`cmdline: ${result.cmdline}`)
    expect(cost?.initToAgentMs).toBeGreaterThan(0)
    expect((cost?.launchToInitMs ?? Infinity) + (cost?.initToAgentMs ?? Infinity)).toBeLessThanOrEqual(result.markerMs ?? 0)
  })

  it('a manifest that leaves no room for the three parameters boots on volantd’s line, unmeasured, saying why', async () => {
    // Incompressible filler in a field volantd keeps, grown until volantd's line is 2010–2047 bytes.
    const manifestOf = (length: number) => {
      const filler = createHash('sha512').update(String(length)).digest('base64').repeat(40).slice(0, length)
      return JSON.stringify({ name: 'big', workload: { env: { FILLER: shuffle(filler) } } })
    }
    const lineBytes = (manifestJson: string) =>
      buildCommandLine({ manifestJson, network: QEMU_USER_NETWORK, apiHost: '10.0.2.2', apiPort: 7777, plugin: 'big', runtime: 'big', vmName: 'big' }).length
    let length = 1000
    while (lineBytes(manifestOf(length)) < 2047 - SUFFIX.length + 10) length += 4
    const manifest = manifestOf(length)
    expect(lineBytes(manifest)).toBeLessThan(2047 - 10)
    const result = await bootImage({ archive, kernel, manifest, log: testLog })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.cmdline).toMatch(/ volant\.runtime=big loglevel=7$/)
    expect(result.cost).toBeUndefined()
    expect(result.costMissing).toBe(
      "volantd's command line leaves no room for printk.time=1 loglevel=7 initramfs_async=0 within the kernel's 2047 bytes"
    )
  })

  it('boot prints the cost (wall only without --icount)', async () => {
    const run = await runCli(['boot', archive, '--kernel', kernel, '--expect', 'FLEDGE-FIXTURE-BOOTED'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^boot cost: unpack \d+ ms, launch → \/init \d+ ms, \/init → agent \d+ ms \(wall\)$/m)
    expect(run.stdout).not.toContain('virtual')
  })
})

describe('boot cost with the real kestrel on the Volant-like kernel', () => {
  let github: GitHubServer
  let dir = ''

  beforeAll(async () => {
    github = await startGitHubServer()
    github.addRelease(volantRelease())
    dir = tempDir()
  }, 300_000)
  afterAll(async () => {
    await github?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('health mode: unpack, launch → /init, and /init → kestrel’s first line, before the agent is ready', async () => {
    const example = await buildExample('http-server', path.join(dir, 'http-server'), github.url)
    const result = await bootImage({
      archive: example.image,
      kernel: volantTestKernel(),
      manifest: fs.readFileSync(example.manifest as string, 'utf8'),
      health: { guestPort: 80, endpoint: '/healthz.txt', timeoutMs: 120_000 },
      timeoutSeconds: 120,
      log: testLog
    })
    expect(result.reason).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.cmdline.endsWith(` volant.runtime=http-server${SUFFIX}`)).toBe(true)
    const cost = result.cost
    expect(result.costMissing).toBeUndefined()
    expect(cost?.agentLine).toBe('kestrel: starting main')
    expect(cost?.unpackMs).toBeGreaterThan(0)
    expect(cost?.launchToInitMs).toBeGreaterThan(cost?.unpackMs ?? Infinity)
    expect(cost?.initToAgentMs).toBeGreaterThan(0)
    expect((cost?.launchToInitMs ?? Infinity) + (cost?.initToAgentMs ?? Infinity)).toBeLessThan(result.agentMs ?? 0)
    expect(cost?.virtual).toBeUndefined()
  }, 300_000)
})
