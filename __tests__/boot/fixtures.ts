/** Kernel and test images for the QEMU boot tests. */
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
 * Runs scripts/fetch-kernel.sh. Without a kernel the boot tests are skipped,
 * except in CI (CI=true), where a missing kernel fails them.
 */
export function fetchTestKernel(): TestKernel | undefined {
  try {
    const out = execFileSync(path.join(repoRoot, 'scripts/fetch-kernel.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const value = (key: string): string | undefined =>
      new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1]
    const vmlinuz = value('vmlinuz')
    const modules = value('modules')
    if (vmlinuz && modules) return { vmlinuz, modules }
    throw new Error(`fetch-kernel.sh printed no paths:\n${out}`)
  } catch (error) {
    if (process.env['CI'] === 'true') throw error
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message
    process.stderr.write(
      `SKIPPING QEMU boot tests: scripts/fetch-kernel.sh could not fetch a kernel.\n${detail}\n`
    )
    return undefined
  }
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-boot-'))
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
