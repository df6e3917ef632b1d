import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { resolveKernel } from '../boot/kernel.js'
import { QEMU_PACKAGE, qemuOnPath } from '../boot/qemu.js'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { makeTempDir } from '../sources/cache.js'

const run = promisify(execFile)

export interface RunnerNeeds {
  smokeTest: boolean
  /** The kernel input; empty means the host's kernel. */
  kernel: string
}

export interface PreparedRunner {
  /** A readable copy of the host's root-only kernel, when one was made. */
  kernel?: string
}

/**
 * The Action's only changes to the machine, made before the engine runs and
 * logged as such: on a GitHub runner the smoke test needs QEMU (installed with
 * apt) and a readable kernel (Ubuntu's /boot/vmlinuz-* is root-only: copied
 * with sudo). The engine itself never installs or escalates.
 */
export async function prepareRunner(needs: RunnerNeeds, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<PreparedRunner> {
  if (!needs.smokeTest || env['GITHUB_ACTIONS'] !== 'true') return {}
  if (!qemuOnPath(env)) {
    log.info(`Preparing the runner: installing ${QEMU_PACKAGE} with apt-get (the smoke test needs qemu-system-x86_64)`)
    await aptInstall(QEMU_PACKAGE).catch((error: unknown) => {
      throw new FledgeError(`installing ${QEMU_PACKAGE} with apt-get failed: ${firstLine(error)}`, {
        key: 'smoke-test',
        fix: `add a step \`sudo apt-get update && sudo apt-get install -y ${QEMU_PACKAGE}\` before this one, or set smoke-test: false.`
      })
    })
  }
  if (needs.kernel) return {}
  try {
    resolveKernel()
    return {}
  } catch (error) {
    const names = (await fs.readdir('/boot').catch(() => [] as string[]))
      .filter((n) => n.startsWith('vmlinuz-'))
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
    if (!names[0]) throw error
    const copy = path.join(await makeTempDir('kernel'), 'vmlinuz')
    log.info(`Preparing the runner: copying /boot/${names[0]} with sudo (it is readable by root only)`)
    await run('sudo', ['-n', 'install', '-m', '0644', `/boot/${names[0]}`, copy]).catch(() => {
      throw error
    })
    return { kernel: copy }
  }
}

async function aptInstall(pkg: string): Promise<void> {
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  const apt = async (...args: string[]): Promise<void> => {
    const [command, ...rest] = [...asRoot, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]
    await run(command as string, rest, { maxBuffer: 64 * 1024 * 1024 })
  }
  try {
    await apt('install', '-y', '-qq', '--no-install-recommends', pkg)
  } catch {
    // Runner images ship stale package lists; refresh them once and retry.
    await apt('update', '-qq')
    await apt('install', '-y', '-qq', '--no-install-recommends', pkg)
  }
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || (error as Error).message || String(error)
  return text.trim().split('\n')[0] ?? ''
}
