import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Logger } from '../log.js'
import { fetchAndStore, findVerified, makeTempDir, type CacheSlot } from '../sources/cache.js'
import { defaultNetworkOptions, downloadFile } from '../sources/http.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { FledgeError } from '../errors.js'
import { resolveKernel } from './kernel.js'

const TOOL = 'fledge-kernel'

/**
 * A kernel given as a path, or as an http(s)/file URL that is downloaded,
 * verified against `sha256` when given, and kept in the tool cache.
 */
export async function obtainKernel(spec: string | undefined, sha256: string | undefined, log: Logger): Promise<string> {
  if (!spec) return hostKernel(log)
  if (!/^(https?|file):\/\//.test(spec)) return resolveKernel(spec)
  const expected = sha256?.replace(/^sha256:/, '').toLowerCase() || undefined
  const slot = (digest: string): CacheSlot => ({ tool: TOOL, key: `sha256-${digest}`, file: 'vmlinuz', what: 'kernel' })
  if (expected) {
    const hit = await findVerified(slot(expected), expected, log)
    if (hit) return hit.path
  }
  log.info(`Downloading the kernel from ${spec}`)
  const fetched = await fetchAndStore(
    'vmlinuz',
    true,
    (dest) => downloadFile(spec, dest, { sha256: expected, what: 'the kernel' }, defaultNetworkOptions(), log),
    slot,
    log
  )
  if (!expected) log.warn(`the kernel download is not pinned; pin it with kernel-sha256: ${fetched.sha256}`)
  return fetched.path
}

/**
 * The host's newest kernel. Ubuntu (GitHub's runners) installs /boot/vmlinuz-*
 * readable by root only; there the runner's passwordless sudo makes a readable copy.
 */
async function hostKernel(log: Logger): Promise<string> {
  try {
    return resolveKernel()
  } catch (error) {
    if (process.env['GITHUB_ACTIONS'] !== 'true' || !(error instanceof FledgeError)) throw error
    const names = (await fs.readdir('/boot').catch(() => [] as string[]))
      .filter((n) => n.startsWith('vmlinuz-'))
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
    if (!names[0]) throw error
    const copy = path.join(await makeTempDir('kernel'), 'vmlinuz')
    log.info(`Copying /boot/${names[0]} with sudo (it is readable by root only)`)
    await promisify(execFile)('sudo', ['-n', 'install', '-m', '0644', `/boot/${names[0]}`, copy]).catch(() => {
      throw error
    })
    return copy
  }
}
