import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Logger } from '../log.js'
import { findCached, makeTempDir, storeCached } from '../sources/cache.js'
import { defaultNetworkOptions, downloadFile } from '../sources/http.js'
import { resolveKernel } from './kernel.js'

const TOOL = 'fledge-kernel'

/**
 * A kernel given as a path, or as an http(s)/file URL that is downloaded,
 * verified against `sha256` when given, and kept in the tool cache.
 */
export async function obtainKernel(spec: string | undefined, sha256: string | undefined, log: Logger): Promise<string> {
  // The host's newest readable kernel; the engine never copies a root-only one (the Action's runner preparation does).
  if (!spec) return resolveKernel()
  if (!/^(https?|file):\/\//.test(spec)) return resolveKernel(spec)
  const expected = sha256?.replace(/^sha256:/, '').toLowerCase() || undefined
  if (expected) {
    const hit = findCached(TOOL, `sha256-${expected}`)
    if (hit) return path.join(hit, 'vmlinuz')
  }
  const dir = await makeTempDir('kernel')
  log.info(`Downloading the kernel from ${spec}`)
  const result = await downloadFile(spec, path.join(dir, 'vmlinuz'), { sha256: expected, what: 'the kernel' }, defaultNetworkOptions(), log)
  if (!expected) log.warn(`the kernel download is not pinned; pin it with kernel-sha256: ${result.sha256}`)
  const cached = await storeCached(dir, TOOL, `sha256-${result.sha256}`)
  await fs.rm(dir, { recursive: true, force: true })
  return path.join(cached, 'vmlinuz')
}
