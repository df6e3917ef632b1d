/**
 * The boot check against the real thing: kestrel built from volant's source, booted on the
 * Volant-like test kernel with volantd's command line, judged by kestrel's own /healthz.
 * And the ways it must fail: a workload on kestrel's port 8080 (kestrel halts while the
 * workload keeps answering), and a kernel that cannot network the guest.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { bootImage } from '../../src/boot/smoke.js'
import { silentLogger } from '../../src/log.js'
import { runCli } from '../support/cli.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import {
  buildExample,
  REPO,
  volantRelease,
  volantTestKernel,
  type BuiltExample
} from '../support/volant.js'

let github: GitHubServer
let work: string
let kernel: string
let example: BuiltExample

beforeAll(async () => {
  kernel = volantTestKernel()
  github = await startGitHubServer()
  github.addRelease(volantRelease())
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'real-agent-'))
  example = await buildExample('http-server', path.join(work, 'http-server'), github.url)
}, 300_000)

afterAll(async () => {
  await github?.close()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

/** examples/http-server with its workload moved to `port`, built with or without its manifest. */
function exampleOnPort(name: string, port: number): string {
  const dir = path.join(work, name)
  fs.cpSync(path.join(REPO, 'examples/http-server'), dir, { recursive: true })
  for (const file of ['payload/http-server', 'manifest.toml']) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8')
    fs.writeFileSync(
      path.join(dir, file),
      text.replace(/-p 80 /, `-p ${port} `).replace(':80"', `:${port}"`)
    )
  }
  return dir
}

describe('the real kestrel on the Volant-like kernel', () => {
  it('examples/http-server reaches agent readiness (kestrel /healthz 200) under boot --health', async () => {
    const run = await runCli(
      [
        'boot',
        example.image,
        '--kernel',
        kernel,
        '--manifest',
        example.manifest as string,
        '--health',
        '--timeout',
        '120'
      ],
      { GITHUB_API_URL: github.url }
    )
    expect(run.stderr).toMatch(/ready when kestrel's \/healthz on guest port 8080 answers 200/)
    expect(run.stderr).toMatch(
      /boot test passed \(\w+\): marker after \d+ ms, workload healthy at \d+ ms, agent ready at \d+ ms\nboot cost: unpack \d+ ms, launch → \/init \d+ ms, \/init → agent \d+ ms \(wall\)\n/
    )
    expect(run.code).toBe(0)
  }, 180_000)

  it('the command line is volantd’s, byte for byte, with the manifest volantd would encode (then the boot cost’s printk.time=1 loglevel=7 initramfs_async=0)', async () => {
    const result = await bootImage({
      archive: example.image,
      kernel,
      manifest: fs.readFileSync(example.manifest as string, 'utf8'),
      health: { guestPort: 80, endpoint: '/healthz.txt', timeoutMs: 120_000 },
      timeoutSeconds: 120,
      log: silentLogger
    })
    expect(result.ok).toBe(true)
    expect(result.cmdline).toMatch(
      /^console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042\.noaux i8042\.nokbd pci=lastbus=0 ip=10\.0\.2\.15::10\.0\.2\.2:255\.255\.255\.0:http-server:eth0:off volant\.api_host=10\.0\.2\.2 volant\.api_port=7777 volant\.manifest=[A-Za-z0-9_-]+ volant\.plugin=http-server volant\.runtime=http-server printk\.time=1 loglevel=7 initramfs_async=0$/
    )
    expect(result.agentMs).toBeGreaterThanOrEqual(result.workloadMs ?? Infinity)
  }, 180_000)

  it('a workload on 8080 is refused at build, naming the clash', async () => {
    const dir = exampleOnPort('on-8080-build', 8080)
    const run = await runCli(
      [
        'build',
        '-c',
        path.join(dir, 'fledge.toml'),
        '-m',
        path.join(dir, 'manifest.toml'),
        '-o',
        path.join(dir, 'plugin.cpio.gz')
      ],
      {
        GITHUB_API_URL: github.url
      }
    )
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /manifest\.toml:\d+:\d+: workload\.base_url: "http:\/\/127\.0\.0\.1:8080" uses port 8080, kestrel's own port/
    )
    // Refused before anything was written: no image, no record, no temp files.
    expect(
      fs.readdirSync(dir).filter((name) => /plugin\.cpio\.gz|SHA256SUMS|\.tmp/.test(name))
    ).toEqual([])
  })

  it('a workload on 8080 forced into an image fails the boot check within 30 s, naming the clash', async () => {
    const dir = exampleOnPort('on-8080-forced', 8080)
    fs.rmSync(path.join(dir, 'manifest.toml'))
    const image = path.join(dir, 'plugin.cpio.gz')
    expect(
      (
        await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', image], {
          GITHUB_API_URL: github.url
        })
      ).code
    ).toBe(0)
    const manifest = fs
      .readFileSync(example.manifest as string, 'utf8')
      .replace('127.0.0.1:80"', '127.0.0.1:8080"')
    const manifestFile = path.join(dir, 'forced.manifest.json')
    fs.writeFileSync(manifestFile, manifest)
    const started = Date.now()
    const run = await runCli([
      'boot',
      image,
      '--kernel',
      kernel,
      '--manifest',
      manifestFile,
      '--health',
      '--timeout',
      '120'
    ])
    const elapsed = Date.now() - started
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /fatal error in pid1 \(serve http\): tcp listener: listen tcp :8080: bind: address already in use/
    )
    expect(run.stderr).toMatch(/the workload listens on 8080, kestrel's own port/)
    expect(elapsed).toBeLessThan(30_000)
  }, 120_000)

  it('the Debian cloud kernel fails --health within 30 s, naming the missing kernel networking', async () => {
    const cloudKernel = path.join(REPO, '.kernel/vmlinuz')
    if (!fs.existsSync(cloudKernel))
      throw new Error(`${cloudKernel} is missing. Fix: run scripts/setup.sh`)
    const started = Date.now()
    const run = await runCli([
      'boot',
      example.image,
      '--kernel',
      cloudKernel,
      '--manifest',
      example.manifest as string,
      '--health',
      '--timeout',
      '120'
    ])
    const elapsed = Date.now() - started
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/network is unreachable/)
    expect(run.stderr).toMatch(/this kernel lacks CONFIG_IP_PNP or a built-in virtio-net driver/)
    expect(elapsed).toBeLessThan(30_000)
  }, 120_000)
})
