import { posix } from 'node:path'
import type { ImageTree } from './image-tree.js'
import { multiarchTriplet } from './machine.js'
import type { ElfFile, ElfParseResult } from './parse.js'

/** What the dependency walk needs to know about the image. */
export interface ImageFiles {
  tree: ImageTree
  /** Parse result of the regular file at this archive path; undefined when it is not ELF. */
  elfAt(path: string): ElfParseResult | undefined
}

export interface MissingLibrary {
  name: string
  /** Archive path of the object whose DT_NEEDED names it. */
  neededBy: string
  /** Files of that name the loader would pass over, and why ("aarch64", "not an ELF file"). */
  skipped: { path: string; reason: string }[]
}

export interface MissingDependencies {
  /** PT_INTERP path, when the image has no file there. */
  interpreter?: string
  libraries: MissingLibrary[]
}

/**
 * What the loader would fail to find when starting this executable: its
 * interpreter and, transitively, the DT_NEEDED libraries of it and of every
 * library found on the way.
 */
export function findMissingDependencies(
  path: string,
  binary: ElfFile,
  image: ImageFiles
): MissingDependencies {
  const result: MissingDependencies = { libraries: [] }
  if (binary.interp !== undefined && image.tree.resolve(binary.interp)?.entry.type !== 'file') {
    result.interpreter = binary.interp
  }
  const seen = new Set<string>()
  const queue: { path: string; elf: ElfFile }[] = [{ path, elf: binary }]
  for (let object = queue.shift(); object; object = queue.shift()) {
    for (const name of object.elf.needed) {
      if (seen.has(name)) continue
      seen.add(name)
      const skipped: MissingLibrary['skipped'] = []
      const found = findLibrary(name, object.path, object.elf, binary.machine, image, skipped)
      if (found) queue.push(found)
      else result.libraries.push({ name, neededBy: object.path, skipped })
    }
  }
  return result
}

function findLibrary(
  name: string,
  requesterPath: string,
  requester: ElfFile,
  machine: string,
  image: ImageFiles,
  skipped: MissingLibrary['skipped']
): { path: string; elf: ElfFile } | undefined {
  const candidates = name.includes('/')
    ? [name]
    : searchDirs(requesterPath, requester, machine).map((dir) => `${dir}/${name}`)
  for (const candidate of candidates) {
    const resolved = image.tree.resolve(candidate)
    if (resolved?.entry.type !== 'file') continue
    const elf = image.elfAt(resolved.path)
    // The loader skips files it cannot use and keeps searching, as for a 32-bit libc in lib/.
    const path = resolved.path
    if (elf === undefined) skipped.push({ path, reason: 'not an ELF file' })
    else if (elf.status === 'damaged') skipped.push({ path, reason: 'damaged' })
    else if (elf.machine !== machine) skipped.push({ path, reason: elf.machine })
    else return { path, elf }
  }
  return undefined
}

/** The loader's search order: the object's RUNPATH (or else RPATH), then the system folders. */
function searchDirs(requesterPath: string, requester: ElfFile, machine: string): string[] {
  const origin = `/${posix.dirname(requesterPath)}`
  // glibc ignores DT_RPATH when DT_RUNPATH is present.
  const own = requester.runpath ?? requester.rpath ?? ''
  const fromObject = own
    .split(':')
    .filter((dir) => dir !== '')
    .map((dir) => dir.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, origin))
  const triplet = multiarchTriplet(machine)
  const multiarch = triplet ? [`lib/${triplet}`, `usr/lib/${triplet}`] : []
  return [...fromObject, ...multiarch, 'lib', 'usr/lib', 'lib64', 'usr/lib64', 'usr/local/lib']
}
