import type { BuildConfig } from '../config/types.js'
import { FledgeError } from '../errors.js'
import { entrySize, type Entry } from './entry.js'

/** newc stores sizes in 32 bits; the kernel silently skips names of 4096 bytes or more. */
export const MAX_FILE_SIZE = 0xffffffff
export const MAX_NAME_BYTES = 4095

export function validateImage(entries: readonly Entry[], config: BuildConfig): void {
  for (const entry of entries) {
    if (Buffer.byteLength(entry.path) + 1 > MAX_NAME_BYTES) {
      throw new FledgeError(
        `path /${entry.path.slice(0, 60)}… is ${Buffer.byteLength(entry.path)} bytes long; the kernel skips names of 4096 bytes or more.`,
        { file: config.file, fix: `shorten the path (from ${entry.origin}).` }
      )
    }
    if (entry.type === 'file' && entrySize(entry) > MAX_FILE_SIZE) {
      const where = entry.source?.kind === 'path' ? entry.source.path : `/${entry.path}`
      throw new FledgeError(
        `${where} is ${entrySize(entry)} bytes; an initramfs (newc cpio) cannot hold a file of 4 GiB or more.`,
        { file: config.file, fix: 'leave it out of the image, or split or compress it.' }
      )
    }
  }
  const init = entries.find((e) => e.path === 'init')
  if (!init) {
    throw new FledgeError(
      'the image has no /init: the kernel would panic at boot ("No working init found").',
      {
        file: config.file,
        key: 'init',
        fix: config.init.mode === 'none'
          ? 'with [init] none = true, map your own init program to "/init" in [mappings].'
          : 'map an init program to "/init".'
      }
    )
  }
  if (init.type !== 'file' && init.type !== 'symlink') {
    throw new FledgeError(`/init is a ${init.type}; it must be an executable file.`, {
      file: config.file,
      fix: 'map an executable file to "/init".'
    })
  }
}
