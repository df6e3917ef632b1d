// `build -o` never writes over what the build reads (issue 10, point 3), through the
// CLI's own main(): the config, the manifest source, the agent, a mapped file, or a
// place inside a mapped folder, however the path is spelled. Refused with exit 1,
// and every file of the project is byte-identical afterwards.
import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCli } from '../support/cli.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

const TEMPLATE = 'schema_version = "v1"\nname = "guarded"\nversion = "1.0.0"\nruntime = "guarded"\n\n[resources]\ncpu_cores = 1\nmemory_mb = 128\n\n[workload]\nentrypoint = "/usr/bin/app"\nbase_url = "http://127.0.0.1:80"\n'

function project(): string {
  const dir = makeProject({
    'fledge.toml': offlineConfig('\n[mappings]\n"conf.txt" = "/etc/app/conf.txt"\n"payload" = "/srv/payload"\n"x.cpio.gz.manifest.json" = "/etc/x.json"\n'),
    'agent.sh': STAND_IN_AGENT,
    'conf.txt': 'listen = 8080\n',
    'payload/index.html': '<p>hello</p>\n',
    'payload/deep/data.bin': Buffer.from([0, 1, 2, 3]),
    'manifest.toml': TEMPLATE,
    'x.cpio.gz.manifest.json': '{"not": "a generated manifest"}\n'
  })
  fs.mkdirSync(path.join(dir, 'out'))
  fs.symlinkSync(path.join(dir, 'conf.txt'), path.join(dir, 'out/link-to-conf'))
  fs.symlinkSync(path.join(dir, 'payload'), path.join(dir, 'out/payload-link'))
  fs.linkSync(path.join(dir, 'conf.txt'), path.join(dir, 'out/hard-link'))
  return dir
}

/** Every path under `dir` → sha256 of its bytes, or its link target, or "dir". */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name)
      const name = path.relative(dir, full)
      if (entry.isSymbolicLink()) files[name] = `-> ${fs.readlinkSync(full)}`
      else if (entry.isDirectory()) {
        files[name] = 'dir'
        walk(full)
      } else files[name] = createHash('sha256').update(fs.readFileSync(full)).digest('hex')
    }
  }
  walk(dir)
  return files
}

/** What the CLI printed as errors (jest's own warnings about VM modules left out). */
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:')).join('\n')

const build = (dir: string, output: string) =>
  runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-m', path.join(dir, 'manifest.toml'), '-o', output])

describe('build -o onto an input is refused, and nothing changes', () => {
  it.each([
    ['a mapped source file', 'conf.txt', /is the source of mapping "conf\.txt" = "\/etc\/app\/conf\.txt", which the build reads/],
    ['fledge.toml', 'fledge.toml', /is the config file .*fledge\.toml, which the build reads/],
    ['a file inside a mapped folder', 'payload/plugin.cpio.gz', /is inside the folder that is the source of mapping "payload" = "\/srv\/payload", so the next build would pack it/],
    ['a new subfolder of a mapped folder', 'payload/new/deeper/plugin.cpio.gz', /inside the folder that is the source of mapping "payload"/],
    ['the mapped folder itself', 'payload', /is the source of mapping "payload" = "\/srv\/payload"/],
    ['the manifest template', 'manifest.toml', /is the manifest source .*manifest\.toml/],
    ['the agent', 'agent.sh', /is the agent \(\[agent\] path\)/],
    ['a mapped file, spelled with ..', 'payload/deep/../../conf.txt', /source of mapping "conf\.txt"/],
    ['a symlink to a mapped file', 'out/link-to-conf', /source of mapping "conf\.txt"/],
    ['a hard link to a mapped file (same inode)', 'out/hard-link', /source of mapping "conf\.txt"/],
    ['a folder reached through a symlink', 'out/payload-link/plugin.cpio.gz', /inside the folder that is the source of mapping "payload"/],
    ['a place whose generated manifest would overwrite a mapped file', 'x.cpio.gz', /path .*x\.cpio\.gz\.manifest\.json for the manifest is the source of mapping "x\.cpio\.gz\.manifest\.json"/]
  ])('%s', async (_, output, message) => {
    const dir = project()
    const before = snapshot(dir)
    const run = await build(dir, path.join(dir, output))
    expect(run.code).toBe(1)
    const error = errorLines(run.stderr)
    expect(error.split('\n')).toHaveLength(1) // one sentence and its fix
    expect(error).toMatch(message)
    expect(error).toMatch(/Fix: write the image elsewhere|Fix: keep the manifest outside/)
    expect(snapshot(dir)).toEqual(before)
  })

  it('names the mapping\'s line in fledge.toml', async () => {
    const dir = project()
    const run = await build(dir, path.join(dir, 'payload/plugin.cpio.gz'))
    expect(errorLines(run.stderr)).toMatch(/^error: .*fledge\.toml:\d+:\d+: mappings\."payload": the output path /)
  })

  it('still builds next to the inputs, and into a folder that only looks similar', async () => {
    const dir = project()
    fs.mkdirSync(path.join(dir, 'payload-out'))
    for (const output of ['plugin.cpio.gz', 'payload-out/plugin.cpio.gz']) {
      const run = await build(dir, path.join(dir, output))
      expect(errorLines(run.stderr)).toBe('')
      expect(run.code).toBe(0)
      expect(fs.existsSync(path.join(dir, `${output}.manifest.json`))).toBe(true)
    }
  })
})
