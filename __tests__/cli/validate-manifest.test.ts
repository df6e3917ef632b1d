// `validate` checks the manifest by Volant's rules, without building: the 8080 clash, a BOM,
// a file:// URL are refused; unknown keys are only noted.
import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCli } from '../support/cli.js'
import { REPO } from '../support/volant.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-validate-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const config = path.join(REPO, 'examples/offline/fledge.toml')
const template = fs.readFileSync(path.join(REPO, 'examples/http-server/manifest.toml'), 'utf8')
const json = {
  name: 'web',
  version: '1.0.0',
  initramfs: { url: '/srv/plugin.cpio.gz', checksum: `sha256:${'a'.repeat(64)}` },
  resources: { cpu_cores: 1, memory_mb: 256 },
  workload: { type: 'http', base_url: 'http://127.0.0.1:80', entrypoint: ['/usr/bin/web'] }
}
function write(name: string, text: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

describe('validate -m', () => {
  it('passes the example’s manifest.toml and a good JSON, noting keys volant ignores', async () => {
    expect(
      (
        await runCli([
          'validate',
          '-c',
          config,
          '-m',
          path.join(REPO, 'examples/http-server/manifest.toml')
        ])
      ).code
    ).toBe(0)
    const run = await runCli([
      'validate',
      '-c',
      config,
      '-m',
      write('good.json', JSON.stringify({ ...json, strategy: 'x' }))
    ])
    expect(run.stdout).toMatch(/good\.json: ok \(volant accepts it and can boot it\)/)
    expect(run.stderr).toMatch(/\$\.strategy: volant ignores this key/)
    expect(run.code).toBe(0)
  })

  it('refuses a workload on 8080 in manifest.toml, at its line', async () => {
    const file = write('manifest.toml', template.replace(':80"', ':8080"'))
    const run = await runCli(['validate', '-c', config, '-m', file])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /manifest\.toml:16:1: workload\.base_url: "http:\/\/127\.0\.0\.1:8080" uses port 8080, kestrel's own port/
    )
  })

  it('refuses, in a manifest JSON, 8080, a BOM and a file:// URL', async () => {
    const cases: [string, string, RegExp][] = [
      [
        '8080.json',
        JSON.stringify({
          ...json,
          workload: { ...json.workload, base_url: 'http://127.0.0.1:8080' }
        }),
        /\$\.workload\.base_url: uses port 8080/
      ],
      ['bom.json', `\uFEFF${JSON.stringify(json)}`, /byte order mark, which volar refuses/],
      [
        'file-url.json',
        JSON.stringify({ ...json, initramfs: { url: 'file:///srv/plugin.cpio.gz' } }),
        /use the plain absolute path "\/srv\/plugin\.cpio\.gz"/
      ]
    ]
    for (const [name, text, message] of cases) {
      const run = await runCli(['validate', '-c', config, '-m', write(name, text)])
      expect([name, run.code]).toEqual([name, 1])
      expect(run.stderr).toMatch(message)
    }
  })
})
