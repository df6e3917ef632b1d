import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCli, type CliRun } from '../support/cli.js'
import { cliScript, removeCliScript, runCliProcess } from '../support/cli-process.js'
import { makeProject, offlineConfig, STAND_IN_AGENT } from '../support/project.js'

/**
 * Every errno a user's files can cause, through the real CLI: one `error:`
 * line that names the path, the cause and the fix; no raw "EROFS: …" text;
 * nothing half-written left beside the output.
 */

const tmp = (prefix = 'fledge-files-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix))
const mounts: string[] = []

function mountTmpfs(options: string): string {
  const dir = tmp('fledge-mount-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir])
  mounts.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of mounts.reverse()) execFileSync('umount', [dir])
  removeCliScript()
})

beforeAll(() => {
  cliScript()
}, 120_000)

/** Exit 1 and exactly one error line matching `pattern`, with a fix and no raw errno text. */
function expectOneError(run: { code: number | null; stderr: string }, pattern: RegExp): string {
  expect(run.code).toBe(1)
  const lines = run.stderr.split('\n').filter((line) => line.startsWith('error:'))
  expect(lines).toHaveLength(1)
  const line = lines[0] as string
  expect(line).toMatch(pattern)
  expect(line).toMatch(/ Fix: \S/)
  expect(line).not.toMatch(/E[A-Z]{3,}: /)
  expect(line).not.toMatch(/\bE(NOENT|ACCES|ISDIR|ROFS|NOSPC|EXIST|NAMETOOLONG|MFILE|NOTDIR)\b/)
  return line
}

function project(): string {
  return makeProject({ 'fledge.toml': offlineConfig(), 'agent.sh': STAND_IN_AGENT })
}

async function buildTo(output: string, dir = project()): Promise<CliRun> {
  return runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', output])
}

describe('reading the config', () => {
  it('ENOENT: names the path and says how to pass it', async () => {
    const missing = path.join(tmp(), 'nope.toml')
    const line = expectOneError(await runCli(['validate', '-c', missing]), /config file not found: .*nope\.toml\. Fix: pass the path of your fledge\.toml with -c/)
    expect(line).toContain(missing)
  })

  it('EISDIR: a folder is not a config file', async () => {
    const dir = tmp()
    expectOneError(await runCli(['validate', '-c', dir]), new RegExp(`config file ${dir} is a folder, not a file\\. Fix: pass the path of a file`))
  })

  it('ENOTDIR: a path through a file', async () => {
    const dir = project()
    expectOneError(
      await runCli(['validate', '-c', path.join(dir, 'agent.sh', 'fledge.toml')]),
      /cannot read config file .*agent\.sh\/fledge\.toml: a part of the path is a file, not a folder\. Fix: correct the path/
    )
  })

  it('ENAMETOOLONG: the path is cut, and the limit said', async () => {
    const name = `${'n'.repeat(300)}.toml`
    const line = expectOneError(
      await runCli(['validate', '-c', path.join(tmp(), name)]),
      /cannot read config file .*n… \(\d+ bytes\): the name is too long \(at most 255 bytes per name and 4095 per path\)\. Fix: use a shorter path/
    )
    expect(line.length).toBeLessThan(600)
  })

  it('EACCES: a config the build user cannot read (as nobody)', async () => {
    const dir = tmp()
    fs.chmodSync(dir, 0o755)
    const config = path.join(dir, 'fledge.toml')
    fs.writeFileSync(config, offlineConfig())
    fs.chmodSync(config, 0o000)
    const run = await runCliProcess(['validate', '-c', config], {
      prefix: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'],
      cwd: '/'
    })
    expectOneError(run, new RegExp(`cannot read config file ${config} \\(permission denied\\)\\. Fix: make it readable by the build user \\(chmod a\\+r ${config}\\)`))
  })

  it('EMFILE: no file descriptor left for the config', async () => {
    const dir = project()
    const run = await runCliProcess(['validate', '-c', path.join(dir, 'fledge.toml')], { spareFileDescriptors: 0 })
    expectOneError(run, /cannot read config file .*fledge\.toml: too many open files\. Fix: raise the open-file limit \(ulimit -n 4096\)/)
  })

  it('a FIFO is refused at once, not read (< 2 s)', async () => {
    const fifo = path.join(tmp(), 'fledge.toml')
    execFileSync('mkfifo', [fifo])
    const run = await runCliProcess(['validate', '-c', fifo], { budgetMs: 2000 })
    expect(run.timedOut).toBe(false)
    expectOneError(run, /config file .*fledge\.toml is a FIFO \(named pipe\), not a regular file\. Fix: pass the path of a regular file/)
  })

  it('/dev/zero is refused at once, not read (< 2 s)', async () => {
    const run = await runCliProcess(['validate', '-c', '/dev/zero'], { budgetMs: 2000 })
    expect(run.timedOut).toBe(false)
    expectOneError(run, /config file \/dev\/zero is a character device, not a regular file/)
  })

  it('a socket is refused', async () => {
    const socket = path.join(tmp(), 'fledge.toml')
    const server = net.createServer().listen(socket)
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      expectOneError(await runCli(['validate', '-c', socket]), /config file .*fledge\.toml is a socket, not a regular file/)
    } finally {
      server.close()
    }
  })

  it('a config above 1 MiB is refused by size, and nothing of it is echoed (50 MB string)', async () => {
    const dir = tmp()
    const config = path.join(dir, 'fledge.toml')
    fs.writeFileSync(config, `version = "${'x'.repeat(50 * 1024 * 1024)}"\nstrategy = "initramfs"\n`)
    const run = await runCliProcess(['validate', '-c', config], { budgetMs: 2000 })
    expect(run.timedOut).toBe(false)
    expectOneError(run, /config file .*fledge\.toml is 50 MiB \(\d+ bytes\); the limit is 1 MiB \(1048576 bytes\)\. Fix: a config file is a few kilobytes at most/)
    expect(run.stderr.length).toBeLessThan(1000)
  })

  it('a long string value below the limit is echoed cut, with its length', async () => {
    const dir = makeProject({ 'fledge.toml': `version = "${'x'.repeat(900_000)}"\nstrategy = "initramfs"\n` })
    const run = await runCli(['validate', '-c', path.join(dir, 'fledge.toml')])
    expectOneError(run, /fledge\.toml:1:1: version: unsupported config version "x{199}… \(900002 bytes\)\./)
    expect(run.stderr.length).toBeLessThan(1000)
  })
})

describe('writing the output', () => {
  it('EISDIR: -o at a folder', async () => {
    const folder = tmp()
    expectOneError(await buildTo(folder), new RegExp(`the output ${folder} is a folder, not a file\\. Fix: give a file name, e\\.g\\. ${folder}/plugin\\.cpio\\.gz`))
    expect(fs.readdirSync(folder)).toEqual([])
  })

  it('EROFS: a read-only file system', async () => {
    const ro = mountTmpfs('ro,size=1m')
    const output = path.join(ro, 'plugin.cpio.gz')
    expectOneError(await buildTo(output), new RegExp(`cannot write the output ${output}: the file system is read-only\\. Fix: write to a writable folder`))
  })

  it('ENOSPC: a full disk, and no temp file left', async () => {
    const tiny = mountTmpfs('size=64k')
    const output = path.join(tiny, 'plugin.cpio.gz')
    expectOneError(await buildTo(output), new RegExp(`cannot write the output ${output}: no space left on the device \\(disk full\\)\\. Fix: free space on the file system of ${tiny}`))
    expect(fs.readdirSync(tiny)).toEqual([])
  })

  it('EEXIST: a file where the output folder should be', async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'out'), 'a file')
    expectOneError(
      await buildTo(path.join(dir, 'out', 'plugin.cpio.gz')),
      new RegExp(`cannot create the output folder ${dir}/out: a file of that name is in the way\\. Fix: remove or rename`)
    )
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('a file')
  })

  it('ENOTDIR: a file on the way to the output folder', async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'out'), 'a file')
    expectOneError(
      await buildTo(path.join(dir, 'out', 'sub', 'plugin.cpio.gz')),
      /cannot create the output folder .*out\/sub: a part of the path is a file, not a folder/
    )
  })

  it('ENAMETOOLONG: a name longer than the file system allows', async () => {
    const dir = tmp()
    const line = expectOneError(
      await buildTo(path.join(dir, `${'p'.repeat(250)}.cpio.gz`)),
      // (a long temp folder makes the path over 300 characters, shown clipped)
      /cannot write the output .*\/p{200,}(\.cpio\.gz|\S*… \(\d+ bytes\)): the name is too long \(at most 255 bytes per name/
    )
    expect(line.length).toBeLessThan(700)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('EACCES: a folder the build user cannot write (as nobody)', async () => {
    const project = path.join(tmp(), 'project')
    fs.chmodSync(path.dirname(project), 0o755)
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'fledge.toml'), offlineConfig())
    fs.writeFileSync(path.join(project, 'agent.sh'), STAND_IN_AGENT.data, { mode: STAND_IN_AGENT.mode })
    fs.chmodSync(project, 0o755)
    const home = tmp('fledge-nobody-')
    fs.chmodSync(home, 0o777)
    const output = path.join(project, 'plugin.cpio.gz')
    const run = await runCliProcess(['build', '-c', path.join(project, 'fledge.toml'), '-o', output], {
      prefix: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'],
      cwd: '/',
      env: { HOME: home, XDG_CACHE_HOME: home, TMPDIR: home, RUNNER_TOOL_CACHE: undefined, RUNNER_TEMP: undefined }
    })
    expectOneError(
      run,
      new RegExp(`cannot write the output ${output} \\(permission denied\\)\\. Fix: make ${project} writable by the build user`)
    )
  })
})

describe('reading mapped sources', () => {
  it('a name that is not UTF-8 is shown escaped, not as a mangled "not found"', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig('[mappings]\n"data" = "/srv/data"\n'), 'agent.sh': STAND_IN_AGENT })
    fs.mkdirSync(path.join(dir, 'data'))
    fs.writeFileSync(Buffer.from(`${dir}/data/caf\xe9.txt`, 'latin1'), 'x')
    const line = expectOneError(
      await buildTo(path.join(dir, 'out', 'plugin.cpio.gz'), dir),
      /fledge\.toml:\d+:1: the name of .*\/data\/caf\\xe9\.txt is not valid UTF-8; an image's names are UTF-8\. Fix: rename the file/
    )
    expect(line).not.toContain('\ufffd')
  })
})

describe('writing the job summary (GITHUB_STEP_SUMMARY)', () => {
  async function flushTo(file: string): Promise<string> {
    const core = await import('@actions/core')
    const { flushSummary } = await import('../../src/action/summary.js')
    const saved = process.env['GITHUB_STEP_SUMMARY']
    process.env['GITHUB_STEP_SUMMARY'] = file
    try {
      core.summary.addRaw('<p>built</p>')
      const error = await flushSummary().then(() => undefined, (e: unknown) => e)
      core.summary.emptyBuffer()
      return error instanceof Error && 'format' in error ? (error as { format(): string }).format() : String(error)
    } finally {
      if (saved === undefined) delete process.env['GITHUB_STEP_SUMMARY']
      else process.env['GITHUB_STEP_SUMMARY'] = saved
    }
  }

  it('appends when it can', async () => {
    const file = path.join(tmp(), 'summary.md')
    fs.writeFileSync(file, 'before\n')
    expect(await flushTo(file)).toBe('undefined')
    expect(fs.readFileSync(file, 'utf8')).toBe('before\n<p>built</p>')
  })

  it('EISDIR, EROFS, ENOSPC, ENOENT: one sentence naming the file', async () => {
    const what = 'the job summary file (GITHUB_STEP_SUMMARY)'
    const folder = tmp()
    expect(await flushTo(folder)).toBe(`${what} ${folder} is a folder, not a file. Fix: name a file, not a folder.`)
    const ro = mountTmpfs('ro,size=1m')
    expect(await flushTo(path.join(ro, 'summary.md'))).toBe(
      `cannot write ${what} ${ro}/summary.md: the file system is read-only. Fix: write to a writable folder instead (the workspace, or $RUNNER_TEMP).`
    )
    const full = mountTmpfs('size=4k')
    fs.writeFileSync(path.join(full, 'filler'), Buffer.alloc(4096))
    expect(await flushTo(path.join(full, 'summary.md'))).toMatch(
      new RegExp(`^cannot write ${what.replace(/[()]/g, '\\$&')} ${full}/summary\\.md: no space left on the device \\(disk full\\)\\. Fix: free space on the file system of ${full} \\(df -h\\)`)
    )
    const gone = path.join(tmp(), 'no-such-folder', 'summary.md')
    expect(await flushTo(gone)).toBe(
      `cannot write ${what} ${gone}: its folder ${path.dirname(gone)} does not exist. Fix: create the folder first, or choose another path.`
    )
  })
})

describe('boot --manifest reads the manifest like the config', () => {
  it('a missing manifest and a FIFO are one sentence each, at once', async () => {
    const dir = tmp()
    const missing = path.join(dir, 'plugin.manifest.json')
    expectOneError(
      await runCli(['boot', path.join(dir, 'plugin.cpio.gz'), '--manifest', missing]),
      new RegExp(`^error: manifest not found: ${missing}\\. Fix: check the path\\.$`)
    )
    const fifo = path.join(dir, 'fifo.json')
    execFileSync('mkfifo', [fifo])
    const run = await runCliProcess(['boot', path.join(dir, 'plugin.cpio.gz'), '--manifest', fifo], { budgetMs: 2000 })
    expect(run.timedOut).toBe(false)
    expectOneError(run, /manifest .*fifo\.json is a FIFO \(named pipe\), not a regular file/)
  })
})

describe('a source that fails while the image is packed', () => {
  it('is named with the image path and mapping (EIO from /proc/self/mem)', async () => {
    const dir = makeProject({ 'fledge.toml': offlineConfig('[mappings]\n"/proc/self/mem" = "/srv/mem"\n'), 'agent.sh': STAND_IN_AGENT })
    const output = path.join(dir, 'out', 'plugin.cpio.gz')
    const run = await runCli(['build', '-c', path.join(dir, 'fledge.toml'), '-o', output])
    expect(run.code).toBe(1)
    const lines = run.stderr.split('\n').filter((line) => line.startsWith('error:'))
    expect(lines).toEqual([
      'error: cannot read the source of /srv/mem (mapping "/proc/self/mem") /proc/self/mem: input/output error. Fix: the device or file system failed (see dmesg), or this is a special file that cannot be copied: map a regular copy.'
    ])
    expect(fs.readdirSync(path.dirname(output))).toEqual([])
  })
})
