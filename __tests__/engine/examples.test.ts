import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootImage } from '../../src/boot/smoke.js'
import { build } from '../../src/build.js'
import type { InspectRecord } from '../../src/cli/inspect.js'
import { silentLogger } from '../../src/log.js'
import { fetchTestKernel, type TestKernel } from '../boot/fixtures.js'
import { runCli } from '../support/cli.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { volantRelease, volantTestKernel } from '../support/volant.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/**
 * Every example that builds without the internet, with the marker its image prints at boot.
 * http-server runs the real kestrel (from a loopback volantvm/volant release), which needs a
 * kernel that networks the guest: the Volant-like test kernel. Its marker is kestrel serving
 * volantd's port, which it does only after the workload passed its health check.
 */
const EXAMPLES: Record<string, { mode: string; marker: string; volantKernel?: true }> = {
  offline: { mode: 'default', marker: 'fledge-example: agent started' },
  'http-server': { mode: 'default', marker: 'TCP listener starting on :8080', volantKernel: true },
  'script-worker': { mode: 'default', marker: 'fledge-example: worker processing batch 2' },
  'custom-init': { mode: 'custom', marker: 'fledge-example: custom init running as PID 1' },
  'none-init': { mode: 'none', marker: 'fledge-example: supervisor is PID 1 (none mode)' },
  'from-image': { mode: 'custom', marker: 'fledge-example: hello from the container image (PID 1)' }
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-examples-'))
const built: Record<string, string> = {}
let github: GitHubServer

beforeAll(async () => {
  // from-image's OCI layout is made from this machine's busybox by its own script, as an author would.
  execFileSync(path.join(REPO, 'examples/from-image/make-layout.sh'), { stdio: 'ignore' })
  github = await startGitHubServer()
  github.addRelease(volantRelease())
  for (const name of Object.keys(EXAMPLES)) {
    const output = path.join(out, `${name}.cpio.gz`)
    const result = await build({
      configPath: path.join(REPO, 'examples', name, 'fledge.toml'),
      outputPath: output,
      apiUrl: github.url,
      log: silentLogger
    })
    expect(result.config.init.mode).toBe(EXAMPLES[name]?.mode)
    built[name] = output
  }
}, 300_000)

afterAll(async () => {
  await github?.close()
  fs.rmSync(out, { recursive: true, force: true })
})

const LS_TYPE: Record<InspectRecord['type'], string> = {
  dir: 'd',
  file: '-',
  symlink: 'l',
  char: 'c',
  block: 'b',
  fifo: 'p',
  socket: 's'
}
function lsMode(r: InspectRecord): string {
  const mode = parseInt(r.mode, 8)
  let s = LS_TYPE[r.type]
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? 'rwx'[(8 - i) % 3] : '-'
  return s
}

/** "mode path[ -> target]" lines from GNU cpio -tv or bsdtar -tv output. */
function fromListing(text: string, nameColumn: number): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => /^[-dlcbps][rwxsStT-]{9}/.test(l))
    .map((l) => {
      const cols = l.split(/\s+/)
      return `${cols[0]} ${cols.slice(nameColumn).join(' ')}`
    })
}

describe.each(Object.keys(EXAMPLES))('example %s', (name) => {
  it('GNU cpio -itv and bsdtar -tvf list exactly the entries and modes that inspect --json reports', async () => {
    const archive = built[name] as string
    const run = await runCli(['inspect', archive, '--json'])
    expect(run.code).toBe(0)
    const records = JSON.parse(run.stdout) as InspectRecord[]
    const ours = records.map(
      (r) => `${lsMode(r)} ${r.path}${r.target !== undefined ? ` -> ${r.target}` : ''}`
    )
    // GNU cpio: mode nlink owner group size|maj,min month day year name
    const gnuText = execFileSync('sh', ['-c', `zcat '${archive}' | cpio -itv --quiet`], {
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }
    }).toString()
    const gnu = fromListing(gnuText.replace(/(\d+),\s+(\d+)/g, '$1,$2'), 8)
    // bsdtar: mode nlink uid gid size|maj,min month day year name
    const bsdText = execFileSync('bsdtar', ['-tvf', archive], {
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }
    }).toString()
    const bsd = fromListing(bsdText.replace(/(\d+),(\d+)/g, '$1,$2'), 8)
    expect(gnu).toEqual(ours)
    expect(bsd).toEqual(ours)
    expect(records.every((r) => r.uid === 0 && r.gid === 0 && r.mtime === 1704067200)).toBe(true)
    expect(records.find((r) => r.path === 'dev/console')).toMatchObject({
      type: 'char',
      rdev: '5:1',
      mode: '0600'
    })
  })
})

describe('example from-image', () => {
  it('holds the image\'s layers with the whiteout applied, and fledge\'s busybox and init on top', async () => {
    const run = await runCli(['inspect', built['from-image'] as string, '--json'])
    const paths = (JSON.parse(run.stdout) as InspectRecord[]).map((r) => r.path)
    expect(paths).toEqual(expect.arrayContaining(['usr/local/bin/hello', 'etc/motd', 'bin/busybox', 'bin/sh', '.volant_init', 'init']))
    expect(paths).not.toContain('etc/placeholder')
    expect(paths.some((p) => p.includes('.wh.'))).toBe(false)
  })
})

describe('boot', () => {
  let kernel: TestKernel
  let volantKernel: string
  beforeAll(() => {
    kernel = fetchTestKernel()
    volantKernel = volantTestKernel()
  })

  it.each(Object.keys(EXAMPLES))('%s boots in QEMU to its marker', async (name) => {
    const example = EXAMPLES[name] as (typeof EXAMPLES)[string]
    const result = await bootImage({
      archive: built[name] as string,
      kernel: example.volantKernel ? volantKernel : kernel.vmlinuz,
      expect: example.marker,
      timeoutSeconds: 90,
      log: silentLogger
    })
    if (!result.ok) throw new Error(`${name} did not boot: ${result.reason}\n${result.consoleTail}`)
    expect(result.consoleTail).not.toMatch(/INIT PANIC|Kernel panic/)
  })
})
