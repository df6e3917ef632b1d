import type { Logger } from '../log.js'
import { githubApiUrl } from '../sources/agent.js'
import { fetchAndStore, findVerified, type CacheSlot } from '../sources/cache.js'
import { defaultNetworkOptions, downloadFile } from '../sources/http.js'
import { resolveVolantKernel, volantKernelTag } from '../sources/volant-kernel.js'
import { resolveKernel } from './kernel.js'

const TOOL = 'fledge-kernel'

/** Where `kernel: volant` comes from: the GitHub API, and the agent's release tag when it has one. */
export interface VolantKernelSource {
  apiUrl: string
  token?: string | undefined
  /** The agent's volantvm/volant release: `volant` boots the kernel of that same release. */
  agentTag?: string | undefined
}

/**
 * A kernel given as `volant` / `volant:<tag>` (Volant's own, from its release), as a path,
 * or as an http(s)/file URL that is downloaded, verified against `sha256` when given, and
 * kept in the tool cache.
 */
export async function obtainKernel(
  spec: string | undefined,
  sha256: string | undefined,
  log: Logger,
  volant?: VolantKernelSource
): Promise<string> {
  // The host's newest readable kernel; the engine never copies a root-only one (the Action's runner preparation does).
  if (!spec) return resolveKernel()
  const volantTag = volantKernelTag(spec)
  if (volantTag !== undefined) {
    const tag = volantTag === 'latest' && volant?.agentTag ? volant.agentTag : volantTag
    const kernel = await resolveVolantKernel(tag, {
      apiUrl: volant?.apiUrl ?? githubApiUrl(),
      token: volant?.token,
      log,
      network: defaultNetworkOptions(),
      useCache: true
    })
    log.info(`boot test kernel: Volant's bzImage of volantvm/volant@${kernel.tag} (sha256:${kernel.sha256})`)
    return kernel.path
  }
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
