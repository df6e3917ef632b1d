import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { OFFLINE_MANIFEST_TOML as MANIFEST_TOML, runActionInProcess } from '../support/action.js'
import { bootSettings } from '../../src/boot/settings.js'
import { FledgeError } from '../../src/errors.js'
import { fetchTestKernel } from '../boot/fixtures.js'
import { runCli } from '../support/cli.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))


/** The offline example with a manifest template, in `sub` of a fresh folder. */
function plugin(sub = '.'): { root: string; dir: string } {
  const root = tmp('fledge-faces-')
  const dir = path.join(root, sub)
  fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'manifest.toml'), MANIFEST_TOML)
  return { root, dir }
}

async function inFolder<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const cwd = process.cwd()
  process.chdir(dir)
  try {
    return await work()
  } finally {
    process.chdir(cwd)
  }
}

const PRODUCT = [
  'plugin.cpio.gz',
  'plugin.cpio.gz.manifest.json',
  'plugin.cpio.gz.build.json',
  'SHA256SUMS'
]

describe('one engine, two faces', () => {
  it('the CLI build and the Action write the same image, manifest, build record and SHA256SUMS', async () => {
    const { dir } = plugin()
    const cli = await inFolder(dir, () => runCli(['build']))
    expect(cli.stderr).not.toMatch(/error/)
    expect(cli.code).toBe(0)
    const byCli = Object.fromEntries(
      PRODUCT.map((name) => [name, fs.readFileSync(path.join(dir, name))])
    )
    for (const name of PRODUCT) fs.rmSync(path.join(dir, name))

    const action = await runActionInProcess(dir, {})
    expect(action.stdout).not.toMatch(/::error/)
    expect(action.exitCode).toBe(0)
    // Built in the same folder by the same runtime, nothing may differ: not even the
    // manifest's initramfs.url (the image's absolute path when not publishing).
    for (const name of PRODUCT)
      expect([name, fs.readFileSync(path.join(dir, name)).toString()]).toEqual([
        name,
        byCli[name]!.toString()
      ])

    // The Action's outputs are that engine result.
    const record = JSON.parse(byCli['plugin.cpio.gz.build.json']!.toString()) as {
      base: string
      config: { path: string }
      outputs: { sha256: string; contentSha256: string; size: number }
    }
    expect(record.base).toBe('.')
    expect(record.config.path).toBe('fledge.toml')
    expect(action.outputs['sha256']).toBe(record.outputs.sha256)
    expect(action.outputs['content-sha256']).toBe(record.outputs.contentSha256)
    expect(action.outputs['size']).toBe(String(record.outputs.size))
    expect(action.outputs['build-record']).toBe(path.join(dir, 'plugin.cpio.gz.build.json'))
    expect(action.outputs['sha256sums']).toBe(path.join(dir, 'SHA256SUMS'))
    expect(action.outputs['manifest']).toBe(path.join(dir, 'plugin.cpio.gz.manifest.json'))
    expect(
      execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }).toString().trim().split('\n')
    ).toHaveLength(3)
  })

  it('the engine leaves process.env as it found it (no RUNNER_* defaults written)', async () => {
    const { dir } = plugin()
    const saved = { cache: process.env['RUNNER_TOOL_CACHE'], temp: process.env['RUNNER_TEMP'] }
    delete process.env['RUNNER_TEMP']
    process.env['XDG_CACHE_HOME'] = tmp('fledge-xdg-')
    try {
      const before = { ...process.env }
      const run = await runCli([
        'build',
        '-c',
        path.join(dir, 'fledge.toml'),
        '-o',
        path.join(dir, 'plugin.cpio.gz')
      ])
      expect(run.code).toBe(0)
      const keys = new Set([...Object.keys(before), ...Object.keys(process.env)])
      expect([...keys].filter((key) => before[key] !== process.env[key])).toEqual([])
    } finally {
      delete process.env['XDG_CACHE_HOME']
      process.env['RUNNER_TOOL_CACHE'] = saved.cache
      process.env['RUNNER_TEMP'] = saved.temp
    }
  })

  it("only the Action's runner preparation mentions apt-get or sudo in src/", () => {
    const hits = execFileSync('grep', ['-rln', '-e', 'apt-get', '-e', 'sudo', 'src/'], {
      cwd: REPO
    })
      .toString()
      .trim()
      .split('\n')
    expect(hits).toEqual(['src/action/prepare-runner.ts'])
  })
})

describe('boot settings, read in one place for both faces', () => {
  const manifest = (m: object) => ({ json: JSON.stringify(m), path: 'plugin.manifest.json' })

  it('health: the guest port from workload.base_url, the endpoint as kestrel probes it, within the boot timeout', () => {
    const m = {
      workload: { base_url: 'http://127.0.0.1:8000' },
      health_check: { endpoint: '/healthz' }
    }
    expect(bootSettings(manifest(m), { health: true, timeoutSeconds: 90 })).toEqual({
      timeoutSeconds: 90,
      manifest: JSON.stringify(m),
      health: { guestPort: 8000, endpoint: '/healthz', timeoutMs: 90_000 }
    })
    // timeout_ms is kestrel's budget for the workload (at least 2 minutes in kestrel), not the boot's.
    const withTimeout = { ...m, health_check: { endpoint: '/healthz', timeout_ms: 5000 } }
    expect(
      bootSettings(manifest(withTimeout), { health: true, timeoutSeconds: 90 }).health?.timeoutMs
    ).toBe(90_000)
    // kestrel probes base_url + endpoint; no endpoint probes base_url itself.
    const withPath = {
      workload: { base_url: 'https://127.0.0.1/api/' },
      health_check: { endpoint: '/ready' }
    }
    expect(bootSettings(manifest(withPath), { health: true, timeoutSeconds: 9 }).health).toEqual({
      guestPort: 443,
      endpoint: '/api/ready',
      timeoutMs: 9000
    })
    const noEndpoint = { workload: { base_url: 'http://127.0.0.1:81' } }
    expect(
      bootSettings(manifest(noEndpoint), { health: true, timeoutSeconds: 9 }).health?.endpoint
    ).toBe('/')
    expect(bootSettings(undefined, { health: false, expect: 'ready', timeoutSeconds: 30 })).toEqual(
      { expect: 'ready', timeoutSeconds: 30 }
    )
  })

  it('health without workload.base_url names the manifest and the key', () => {
    const run = () =>
      bootSettings(manifest({ health_check: { endpoint: '/' } }), {
        health: true,
        timeoutSeconds: 30
      })
    expect(run).toThrow(FledgeError)
    expect(() => run()).toThrow(/needs workload\.base_url/)
    try {
      run()
    } catch (error) {
      expect((error as FledgeError).format()).toMatch(
        /^plugin\.manifest\.json: workload\.base_url: the health check needs workload\.base_url\. Fix: /
      )
    }
  })

  it("the Action's smoke test boots the image the engine built (real QEMU)", async () => {
    const kernel = fetchTestKernel()
    expect(kernel).toBeDefined()
    const { dir } = plugin()
    const run = await runActionInProcess(dir, {
      'smoke-test': 'boot',
      kernel: kernel?.vmlinuz ?? '',
      'boot-expect': 'fledge-example: agent started'
    })
    expect(run.stdout).not.toMatch(/::error/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs['boot-ms']).toMatch(/^\d+$/)
    expect(Number(run.outputs['unpack-ms'])).toBeGreaterThan(0)
    expect(run.summary).toMatch(/<b>Smoke test<\/b>: ✅ booted \((tcg|kvm)\): marker after \d+ ms/)
    expect(run.summary).toMatch(/<b>Boot cost<\/b> \(kernel log\): unpack \d+ ms, launch → \/init \d+ ms/)
  })
})

describe('annotations', () => {
  it('a fledge.toml with two problems: two annotations, each on its file, line and column, nothing else', async () => {
    const { dir } = plugin()
    fs.writeFileSync(
      path.join(dir, 'fledge.toml'),
      'version = "1"\nstrategy = "initramfs"\n\n[agent]\nsource_strategy = "nope"\n\n[init]\nmappings = 3\n'
    )
    const run = await runActionInProcess(dir, {})
    expect(run.exitCode).toBe(1)
    const errors = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('::error'))
      .sort()
    expect(errors).toEqual([
      expect.stringMatching(
        /^::error file=fledge\.toml,line=5,col=1::\S*fledge\.toml:5:1: agent\.source_strategy: unknown source_strategy "nope"/
      ),
      expect.stringMatching(
        /^::error file=fledge\.toml,line=8,col=1::\S*fledge\.toml:8:1: init\.mappings: unknown key/
      )
    ])
  })

  it('one located problem: exactly one annotation', async () => {
    const { dir } = plugin()
    fs.appendFileSync(path.join(dir, 'fledge.toml'), '\n[init]\nmappings = { "x" = "/init" }\n')
    const run = await runActionInProcess(dir, {})
    expect(run.exitCode).toBe(1)
    const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'))
    expect(errors).toEqual([
      expect.stringMatching(
        /^::error file=fledge\.toml,line=\d+,col=\d+::.*init\.mappings: unknown key/
      )
    ])
  })

  it('a problem without a place: one annotation without a file', async () => {
    const { dir } = plugin()
    const run = await runActionInProcess(dir, { 'smoke-test': 'maybe' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout.split('\n').filter((line) => line.startsWith('::error'))).toEqual([
      '::error::input smoke-test is "maybe"; allowed: false, boot, health. Fix: set smoke-test to one of false | boot | health.'
    ])
  })
})

describe('release notes', () => {
  let server: GitHubServer
  beforeAll(async () => {
    server = await startGitHubServer()
  })
  afterAll(() => server.close())

  it('their rebuild commands work for a plugin in a subfolder (verify says match)', async () => {
    // The plugin's repository, with the plugin in plugins/web, tagged v1.0.0.
    const { root } = plugin('plugins/web')
    const git = (...args: string[]) =>
      execFileSync(
        'git',
        ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args],
        { cwd: root }
      )
    git('init', '-q')
    git('add', '.')
    git('commit', '-qm', 'plugin')
    git('tag', 'v1.0.0')

    const tag = {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/tags/v1.0.0',
      GITHUB_SERVER_URL: server.url,
      GITHUB_API_URL: server.url,
      GITHUB_REPOSITORY: 'volantvm/web-plugin'
    }
    const run = await runActionInProcess(
      root,
      { 'working-directory': 'plugins/web', publish: 'true' },
      tag
    )
    expect(run.stdout).not.toMatch(/::error/)
    expect(run.exitCode).toBe(0)
    const body = server.releases('volantvm', 'web-plugin')[0]?.body ?? ''
    const block = /### Rebuild it yourself[\s\S]*?```bash\n([\s\S]*?)```/.exec(body)?.[1] ?? ''
    const commands = block.trim().split('\n')
    expect(commands).toHaveLength(5)
    expect(commands[1]).toContain(' -o plugins/web/plugin.cpio.gz ')

    // Run them as printed, in a fresh folder. The clone URL is the (loopback) server's:
    // git's insteadOf points it at the repository above. The tool itself is this
    // checkout's source, instead of the clone of a released fledge-action.
    const user = tmp('fledge-user-')
    const gitEnv = {
      ...process.env,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `url.${root}.insteadOf`,
      GIT_CONFIG_VALUE_0: `${server.url}/volantvm/web-plugin`
    }
    const toolClone = commands.find(
      (c) => c.includes('/tmp/fledge-action') && c.startsWith('git clone')
    )
    const verify = commands.at(-1) as string
    const shell = commands.filter((c) => c !== toolClone && c !== verify).join('\n')
    // Not execFileSync: the loopback server answering curl runs in this process.
    await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', shell], { cwd: user, env: gitEnv })
    expect(verify).toMatch(/^node \/tmp\/fledge-action\/dist\/cli\/index\.js verify /)
    const args = verify.replace(/^node \S+ /, '').split(' ')
    const result = await inFolder(path.join(user, 'plugin'), () => runCli(args))
    expect(result.stderr).not.toMatch(/error/)
    expect(result.stdout).toMatch(/^match: the rebuild gives the same bytes/)
    expect(result.code).toBe(0)
  })
})
