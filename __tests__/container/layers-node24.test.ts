import { afterAll, describe, expect, it } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { cliScript, removeCliScript } from '../support/cli-process.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'
import { newRunnerTemp } from '../support/runner-temp.js'
import { writeLayout } from './layer-fixtures.js'

const run = promisify(execFile)
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * zstd layers are decoded by fzstd (pure JS), gzip ones by node:zlib: the same
 * image must give the same plugin.cpio.gz under Node 20 and Node 24. The runtimes
 * are those scripts/setup.sh fetched (scripts/fetch-nodes.sh, cached only).
 */
const made: string[] = []
afterAll(() => {
  removeCliScript()
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

function runtimes(): Record<string, string[]> {
  const stdout = execFileSync('bash', [path.join(REPO, 'scripts/fetch-nodes.sh')], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '', FLEDGE_CACHED_ONLY: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const commands: Record<string, string[]> = {}
  for (const line of stdout.split('\n')) {
    const match = /^(\w+)=(.+)$/.exec(line.trim())
    if (match?.[1] && match[2]) commands[match[1]] = match[2].split(' ').filter(Boolean)
  }
  return commands
}

describe('a container image build under Node 20 and Node 24', () => {
  it('gives identical bytes (gzip, zstd and plain layers, whiteouts, a large file)', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig('image = "oci-layout:./layout:1.0"\n'), 'agent.sh': STAND_IN_AGENT })
    made.push(dir)
    // Incompressible-ish bytes, large enough to go to a temp file and span many zstd blocks.
    const big = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    writeLayout(path.join(dir, 'layout'), '1.0', [
      { compression: 'gzip', items: [{ name: 'opt/data/big', data: big }, { name: 'opt/data/old', data: 'old' }] },
      { compression: 'zstd', items: [{ name: 'opt/data/.wh.old', data: '' }, { name: 'opt/data/big2', data: Buffer.concat([big, big]) }] },
      { compression: 'tar', items: [{ name: 'opt/link', type: 'symlink', linkname: 'data/big' }] }
    ])
    const commands = runtimes()
    const script = cliScript()
    const sums: Record<string, string> = {}
    for (const name of ['node20', 'node24_x64']) {
      const command = commands[name]
      if (!command) throw new Error(`scripts/fetch-nodes.sh printed no ${name}=…: run scripts/setup.sh`)
      const [file, ...rest] = command as [string, ...string[]]
      const out = path.join(dir, `${name}.cpio.gz`)
      const env: NodeJS.ProcessEnv = { ...process.env, SOURCE_DATE_EPOCH: '1700000000', RUNNER_TOOL_CACHE: path.join(dir, `tc-${name}`), RUNNER_TEMP: newRunnerTemp(`node24-${name}`) }
      delete env['NODE_OPTIONS']
      await run(file, [...rest, script, 'build', '-c', path.join(dir, 'fledge.toml'), '-o', out, '--no-record', '--no-sums'], { env, maxBuffer: 16 * 1024 * 1024 })
      sums[name] = createHash('sha256').update(fs.readFileSync(out)).digest('hex')
    }
    expect(sums['node24_x64']).toBe(sums['node20'])
    const listing = execFileSync('bsdtar', ['-tf', path.join(dir, 'node24_x64.cpio.gz')], { encoding: 'utf8' }).split('\n')
    expect(listing).toEqual(expect.arrayContaining(['opt/data/big', 'opt/data/big2', 'opt/link']))
    expect(listing).not.toContain('opt/data/old')
  }, 300_000)
})
