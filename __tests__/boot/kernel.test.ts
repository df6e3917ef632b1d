import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { resolveKernel } from '../../src/boot/kernel.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-kernel-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

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

  const asRoot = process.getuid?.() === 0
  // Root reads everything; the unreadable case only exists for other users (Ubuntu's 0600 kernels).
  ;(asRoot ? it.skip : it)('skips kernels this user cannot read', () => {
    const dir = bootDir('private', ['vmlinuz-6.8.0-1', 'vmlinuz-6.8.0-2'])
    fs.chmodSync(path.join(dir, 'vmlinuz-6.8.0-2'), 0o600 & ~0o400)
    expect(resolveKernel(undefined, dir)).toBe(path.join(dir, 'vmlinuz-6.8.0-1'))
    fs.chmodSync(path.join(dir, 'vmlinuz-6.8.0-1'), 0)
    expect(() => resolveKernel(undefined, dir)).toThrow(/cannot be read by this user/)
  })
})
