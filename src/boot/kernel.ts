import * as fs from 'node:fs'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'

const NO_KERNEL_FIX =
  'pass --kernel <path to a vmlinuz>, or run scripts/fetch-kernel.sh and pass .kernel/vmlinuz.'

/**
 * The kernel to boot: `explicit` when given (it must be a readable file),
 * otherwise the newest readable `vmlinuz-*` in `bootDir`.
 */
export function resolveKernel(explicit?: string, bootDir = '/boot'): string {
  if (explicit !== undefined) {
    const absolute = path.resolve(explicit)
    const problem = unreadableFileProblem(absolute)
    if (problem) {
      throw new FledgeError(`kernel ${absolute} ${problem}.`, { fix: NO_KERNEL_FIX })
    }
    return absolute
  }
  let names: string[]
  try {
    names = fs.readdirSync(bootDir)
  } catch {
    names = []
  }
  const candidates = names
    .filter((name) => name.startsWith('vmlinuz-'))
    .sort(compareVersionsDescending)
    .map((name) => path.join(bootDir, name))
  const readable = candidates.find((file) => unreadableFileProblem(file) === undefined)
  if (readable) return readable
  const why =
    candidates.length === 0
      ? `no ${bootDir}/vmlinuz-* exists`
      : // Ubuntu installs its kernels mode 0600: only root can read them.
        `${candidates.join(', ')} cannot be read by this user`
  throw new FledgeError(`no kernel to boot the image with: ${why}.`, { fix: NO_KERNEL_FIX })
}

function unreadableFileProblem(file: string): string | undefined {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return 'does not exist'
  }
  if (!stat.isFile()) return 'is not a file'
  try {
    fs.accessSync(file, fs.constants.R_OK)
  } catch {
    return 'cannot be read by this user'
  }
  return undefined
}

/** "vmlinuz-6.1.0-10-cloud-amd64" sorts after "vmlinuz-6.1.0-9-cloud-amd64". */
function compareVersionsDescending(a: string, b: string): number {
  return b.localeCompare(a, 'en', { numeric: true })
}
