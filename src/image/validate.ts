import type { BuildConfig } from '../config/types.js'
import { showPath, showValue } from '../display.js'
import { ImageTree } from '../elf/image-tree.js'
import { FledgeError } from '../errors.js'
import type { InitPlan } from './assemble.js'
import { entrySize, toArchivePath, type Entry } from './entry.js'
import { mappingOrigin } from './mappings.js'

/** newc stores sizes in 32 bits; the kernel silently skips names of 4096 bytes or more. */
export const MAX_FILE_SIZE = 0xffffffff
export const MAX_NAME_BYTES = 4095

export function validateImage(entries: readonly Entry[], config: BuildConfig, plan?: InitPlan): void {
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
  const image = { tree: new ImageTree(entries), byPath: new Map(entries.map((e) => [e.path, e])) }
  requireExecutable(
    image,
    '/init',
    config,
    'the kernel could not run it ("Failed to execute /init") and would start /bin/sh or panic instead'
  )
  if (plan?.kind === 'c-init' && plan.exec === 'custom') {
    requireExecutable(image, plan.imagePath, config, `the init could not start it (init.path = ${showValue(plan.imagePath)})`)
  }
}

/**
 * `imagePath` must lead (through symlinks inside the image) to a regular
 * file with an execute bit: the kernel execs /init with no shell to help.
 */
function requireExecutable(
  image: { tree: ImageTree; byPath: Map<string, Entry> },
  imagePath: string,
  config: BuildConfig,
  consequence: string
): void {
  const entry = image.tree.resolve(imagePath)?.entry
  // A later entry for a path replaces an earlier one, as in the archive.
  const link = image.byPath.get(toArchivePath(imagePath))
  const named = link ? `${imagePath} (${link.origin})` : imagePath
  const at = link ? mappingPosition(config, link) : undefined
  const where = { file: config.file, line: at?.line, column: at?.column }
  if (!entry) {
    const target = link?.type === 'symlink' ? ` is a symlink to ${showValue(link.target)}, which` : ''
    throw new FledgeError(`${named}${target} leads to nothing in the image; ${consequence}.`, {
      ...where,
      fix: `make ${imagePath} a link to an executable file that is in the image (a symlink is resolved inside the image, not on the host).`
    })
  }
  if (entry.type !== 'file') {
    throw new FledgeError(`${named} is ${entry.type === 'dir' ? 'a folder' : `a ${entry.type}`}${link !== entry ? ` (through its symlink)` : ''}; ${consequence}.`, {
      ...where,
      fix: `map an executable file to "${imagePath}".`
    })
  }
  if ((entry.mode & 0o111) === 0) {
    const source = entry.source?.kind === 'path' ? entry.source.path : undefined
    throw new FledgeError(
      `${named} is not executable (mode ${entry.mode.toString(8).padStart(4, '0')}); ${consequence}.`,
      {
        ...where,
        fix: source
          ? `make the source executable (chmod +x ${showPath(source)}): a mapped file keeps its execute bit.`
          : `map an executable file to "${imagePath}".`
      }
    )
  }
}

function mappingPosition(config: BuildConfig, entry: Entry) {
  return config.mappings.find((m) => entry.origin === mappingOrigin(m.source))?.position
}
