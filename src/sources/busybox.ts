import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BuildConfig } from '../config/types.js'
import type { Logger } from '../log.js'
import { findCached, makeTempDir, storeCached } from './cache.js'
import { downloadFile, type NetworkOptions } from './http.js'
import type { ResolvedFile } from './types.js'

const TOOL = 'fledge-busybox'
const FILE = 'busybox'

export interface SourceContext {
  log: Logger
  network: NetworkOptions
  useCache: boolean
}

export async function resolveBusybox(
  busybox: BuildConfig['busybox'],
  context: SourceContext
): Promise<ResolvedFile & { url: string; pinned: boolean }> {
  const { log } = context
  if (busybox.sha256 && context.useCache) {
    const hit = findCached(TOOL, `sha256-${busybox.sha256}`)
    if (hit) {
      const file = path.join(hit, FILE)
      const stat = await fs.stat(file)
      log.debug(`busybox: cache hit ${file}`)
      return { path: file, size: stat.size, sha256: busybox.sha256, cacheHit: true, url: busybox.url, pinned: true }
    }
  }
  const temp = await makeTempDir('busybox')
  const dest = path.join(temp, FILE)
  log.info(`Downloading busybox from ${busybox.url}`)
  const result = await downloadFile(
    busybox.url,
    dest,
    { sha256: busybox.sha256, what: 'busybox' },
    context.network,
    log
  )
  if (!busybox.pinned) {
    log.warn(
      `busybox_url has no busybox_sha256, so the download was not verified. Pin it: busybox_sha256 = "${result.sha256}"`
    )
  }
  let file = dest
  if (context.useCache) {
    const cached = await storeCached(temp, TOOL, `sha256-${result.sha256}`)
    file = path.join(cached, FILE)
    await fs.rm(temp, { recursive: true, force: true })
  }
  return { path: file, size: result.size, sha256: result.sha256, cacheHit: false, url: busybox.url, pinned: busybox.pinned }
}
