/** Kernel and test images for the QEMU boot tests. */
import { afterAll } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stderrLogger, type Logger } from '../../src/log.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const fixtureDir = path.join(repoRoot, 'scripts/boot-fixtures')

export const testLog: Logger = stderrLogger(process.env['FLEDGE_TEST_VERBOSE'] === '1')

export interface TestKernel {
  vmlinuz: string
  modules: string
}

/**
 * Debian's cloud kernel and its virtio NIC modules, as scripts/setup.sh (fetch-kernel.sh) left
 * them in .kernel/. Missing, the boot tests fail with the set-up hint: they never fetch.
 */
export function fetchTestKernel(): TestKernel {
  const dir = path.join(repoRoot, '.kernel')
  const vmlinuz = path.join(dir, 'vmlinuz')
  const modules = path.join(dir, 'modules')
  for (const needed of [vmlinuz, path.join(modules, 'load-order'), path.join(dir, 'package')]) {
    if (!fs.existsSync(needed)) {
      throw new Error(`${needed} is missing: the boot tests need Debian's cloud kernel. Fix: run scripts/setup.sh`)
    }
  }
  return { vmlinuz, modules }
}

const made: string[] = []
// Registered when a test file imports this module: whatever tempDir() made is gone after the file.
afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-boot-'))
  made.push(dir)
  return dir
}

export interface ImageSpec {
  /** A script in scripts/boot-fixtures/ to use as /init; none when omitted. */
  init?: string
  modules?: string
  touch?: string[]
}

/** A gzip'd newc image made by scripts/boot-fixtures/make-image.sh. */
export function makeImage(dir: string, name: string, spec: ImageSpec): string {
  const out = path.join(dir, `${name}.cpio.gz`)
  const args: string[] = []
  if (spec.init) args.push('--init', path.join(fixtureDir, spec.init))
  if (spec.modules) args.push('--modules', spec.modules)
  for (const file of spec.touch ?? []) args.push('--touch', file)
  execFileSync(path.join(fixtureDir, 'make-image.sh'), [...args, out], { stdio: 'inherit' })
  return out
}
