import type { BuildConfig } from '../config/types.js'
import type { Logger } from '../log.js'
import { fetchAndStore, findVerified, type CacheSlot } from './cache.js'
import { downloadFile, type NetworkOptions } from './http.js'
import type { ResolvedFile } from './types.js'

export interface SourceContext {
  log: Logger
  network: NetworkOptions
  useCache: boolean
}

const slot = (sha256: string): CacheSlot => ({ tool: 'fledge-busybox', key: `sha256-${sha256}`, file: 'busybox', what: 'busybox' })

export async function resolveBusybox(
  busybox: BuildConfig['busybox'],
  context: SourceContext
): Promise<ResolvedFile & { url: string; pinned: boolean }> {
  const { log } = context
  const origin = { url: busybox.url, pinned: busybox.pinned }
  if (busybox.sha256 && context.useCache) {
    const hit = await findVerified(slot(busybox.sha256), busybox.sha256, log)
    if (hit) return { ...hit, cacheHit: true, ...origin }
  }
  log.info(`Downloading busybox from ${busybox.url}`)
  const fetched = await fetchAndStore(
    'busybox',
    context.useCache,
    (dest) => downloadFile(busybox.url, dest, { sha256: busybox.sha256, what: 'busybox' }, context.network, log),
    slot,
    log
  )
  if (!busybox.pinned) {
    log.warn(
      `busybox_url has no busybox_sha256, so the download was not verified. Pin it: busybox_sha256 = "${fetched.sha256}"`
    )
  }
  return { ...fetched, cacheHit: false, ...origin }
}
