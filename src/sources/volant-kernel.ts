import { FledgeError } from '../errors.js'
import { releaseAssetText, resolveReleaseAsset, type AgentContext } from './agent.js'
import type { CachedFile } from './cache.js'

/** Volant's releases carry its guest kernel beside the agent. */
export const VOLANT_REPOSITORY = 'volantvm/volant'
const KERNEL_ASSET = 'bzImage'
const KERNEL_SUM_ASSET = 'bzImage.sha256'

/**
 * `kernel: volant` (or `volant:<tag>`): the boot check's kernel is the one Volant boots plugins
 * with, cloud-hypervisor's Linux with ch_defconfig (IP_PNP and virtio-net built in; distribution
 * kernels have neither, and kestrel cannot network the guest without them).
 */
export function volantKernelTag(spec: string | undefined): string | undefined {
  if (spec === 'volant') return 'latest'
  return spec?.startsWith('volant:') ? spec.slice('volant:'.length) || 'latest' : undefined
}

/**
 * The bzImage of volantvm/volant's release `tag`, verified against GitHub's digest and the
 * release's own bzImage.sha256, cached by tag (and re-hashed on every use).
 */
export async function resolveVolantKernel(
  tag: string,
  context: AgentContext
): Promise<CachedFile & { tag: string; cacheHit: boolean }> {
  return resolveReleaseAsset(
    {
      repository: VOLANT_REPOSITORY,
      version: tag,
      asset: KERNEL_ASSET,
      what: "Volant's kernel",
      configKey: 'kernel',
      missingFix:
        'pick a volantvm/volant release that ships bzImage (kernel: volant:<tag>), or pass a kernel with IP_PNP and built-in virtio-net (kernel: <path or URL>).',
      verify: async (release, _file, sha256) => {
        const text = await releaseAssetText(release, KERNEL_SUM_ASSET, context)
        if (text === undefined) {
          context.log.warn(`${VOLANT_REPOSITORY}@${release.tag_name} has no ${KERNEL_SUM_ASSET}; only GitHub's digest checked the kernel.`)
          return
        }
        const published = /\b[0-9a-fA-F]{64}\b/.exec(text)?.[0]?.toLowerCase()
        if (published !== sha256) {
          throw new FledgeError(
            `Volant's kernel of ${VOLANT_REPOSITORY}@${release.tag_name} has sha256 ${sha256}, but its ${KERNEL_SUM_ASSET} says ${published ?? '(no sha256 in it)'}.`,
            { key: 'kernel', fix: 'retry; if it persists, pin another release (kernel: volant:<tag>) or pass a kernel path.' }
          )
        }
      }
    },
    context
  )
}
