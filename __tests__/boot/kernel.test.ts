import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { resolveKernel } from '../../src/boot/kernel.js'
import { cliScript, removeCliScript } from '../support/cli-process.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-kernel-'))
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true })
  removeCliScript()
})

/** resolveKernel(undefined, dir) as a user who is not root: its answer, or its error's text. */
function resolveAsOtherUser(dir: string): string {
  const kernelModule = path.join(path.dirname(cliScript()), 'boot', 'kernel.js')
  const script = `import(${JSON.stringify(kernelModule)}).then((m) => { try { process.stdout.write(m.resolveKernel(undefined, ${JSON.stringify(dir)})) } catch (e) { process.stdout.write(String(e.message)) } })`
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : []
  const [command, ...args] = [...asNobody, process.execPath, '--input-type=module', '-e', script]
  return execFileSync(command as string, args, { encoding: 'utf8' })
}

function bootDir(name: string, files: string[]): string {
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  for (const file of files) fs.writeFileSync(path.join(dir, file), 'kernel')
  return dir
}

describe('resolveKernel', () => {
  it('takes an explicit path as it is, made absolute', () => {
    const dir = bootDir('explicit', ['my-vmlinuz'])
    const relative = path.relative(process.cwd(), path.join(dir, 'my-vmlinuz'))
    expect(resolveKernel(relative)).toBe(path.join(dir, 'my-vmlinuz'))
  })

  it('refuses an explicit path that is missing or not a file, saying how to get one', () => {
    expect(() => resolveKernel(path.join(root, 'nope'))).toThrow(/does not exist/)
    expect(() => resolveKernel(root)).toThrow(/is not a file/)
    try {
      resolveKernel(path.join(root, 'nope'))
    } catch (error) {
      expect((error as FledgeError).fix).toContain('--kernel')
      expect((error as FledgeError).fix).toContain('scripts/fetch-kernel.sh')
    }
  })

  it('otherwise picks the newest vmlinuz-* by version, not by string order', () => {
    const dir = bootDir('many', [
      'vmlinuz-6.1.0-9-cloud-amd64',
      'vmlinuz-6.1.0-10-cloud-amd64',
      'config-6.1.0-99-cloud-amd64',
      'initrd.img-6.1.0-99-cloud-amd64'
    ])
    expect(resolveKernel(undefined, dir)).toBe(path.join(dir, 'vmlinuz-6.1.0-10-cloud-amd64'))
  })

  it('fails clearly when there is no kernel', () => {
    const dir = bootDir('empty', ['config-6.1.0'])
    expect(() => resolveKernel(undefined, dir)).toThrow(FledgeError)
    expect(() => resolveKernel(undefined, dir)).toThrow(`no ${dir}/vmlinuz-* exists`)
    expect(() => resolveKernel(undefined, path.join(root, 'missing-dir'))).toThrow(FledgeError)
  })

  // Ubuntu's kernels are 0600: only a user other than root meets them. As root (CI), the
  // check runs in a child process as nobody, with this tree's CLI modules transpiled.
  it('skips kernels this user cannot read', () => {
    const dir = bootDir('private', ['vmlinuz-6.8.0-1', 'vmlinuz-6.8.0-2'])
    fs.chmodSync(root, 0o755)
    fs.chmodSync(dir, 0o755)
    for (const name of ['vmlinuz-6.8.0-1', 'vmlinuz-6.8.0-2']) fs.chmodSync(path.join(dir, name), 0o644)
    fs.chmodSync(path.join(dir, 'vmlinuz-6.8.0-2'), 0o600)
    expect(resolveAsOtherUser(dir)).toBe(path.join(dir, 'vmlinuz-6.8.0-1'))
    fs.chmodSync(path.join(dir, 'vmlinuz-6.8.0-1'), 0o600)
    expect(resolveAsOtherUser(dir)).toMatch(/cannot be read by this user/)
  })
})
