import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Mapping } from '../config/types.js'
import { showPath, showValue } from '../display.js'
import { FledgeError } from '../errors.js'
import { fileError, isFileSystemError } from '../user-files.js'
import type { ImageBuilder } from './builder.js'
import { DIR_MODE, mappedFileMode } from './modes.js'

/**
 * Adds one mapping: a file, or a folder copied recursively with symlinks
 * inside it kept as symlinks. Only metadata is read here; file bytes are
 * streamed later by the archive writer.
 */
export async function addMapping(
  builder: ImageBuilder,
  mapping: Mapping,
  configFile: string,
  warn: (message: string) => void
): Promise<void> {
  const origin = mappingOrigin(mapping.source)
  const where = { file: configFile, line: mapping.position?.line, column: mapping.position?.column }
  let stat
  try {
    stat = await fs.stat(mapping.sourcePath)
  } catch (error) {
    throw sourceError(error, mapping.sourcePath, where)
  }
  if (stat.isDirectory()) {
    builder.addMapped(mapping.destination, { type: 'dir', mode: DIR_MODE, origin })
    await addDirectory(builder, mapping.sourcePath, mapping.destination, origin, where, warn)
  } else if (stat.isFile()) {
    await assertReadable(mapping.sourcePath, where)
    builder.addMapped(mapping.destination, {
      type: 'file',
      mode: mappedFileMode(mapping.destination, stat.mode),
      source: { kind: 'path', path: mapping.sourcePath, size: stat.size },
      origin
    })
  } else {
    throw new FledgeError(`mapping source ${showPath(mapping.sourcePath)} is not a regular file or folder.`, {
      ...where,
      fix: 'map regular files or folders only.'
    })
  }
}

/** How an entry from this mapping is named in messages: `mapping "payload/app"` (escaped and cut). */
export function mappingOrigin(source: string): string {
  return `mapping ${showValue(source)}`
}

type Where = { file: string; line: number | undefined; column: number | undefined }

async function addDirectory(
  builder: ImageBuilder,
  sourceDir: string,
  destination: string,
  origin: string,
  where: Where,
  warn: (message: string) => void
): Promise<void> {
  let children
  try {
    // As bytes: a name that is not UTF-8 would otherwise come back mangled and then "not exist".
    children = await fs.readdir(sourceDir, { withFileTypes: true, encoding: 'buffer' })
  } catch (error) {
    throw sourceError(error, sourceDir, where)
  }
  for (const child of children) {
    const name = utf8Name(child.name)
    if (name === undefined) {
      throw new FledgeError(
        `the name of ${showPath(Buffer.concat([Buffer.from(`${sourceDir}/`), child.name]))} is not valid UTF-8; an image's names are UTF-8.`,
        { ...where, fix: 'rename the file to a UTF-8 name (e.g. with convmv), or leave it out of the mapped folder.' }
      )
    }
    const hostPath = path.join(sourceDir, name)
    const imagePath = `${destination}/${name}`
    if (child.isDirectory()) {
      builder.addMapped(imagePath, { type: 'dir', mode: DIR_MODE, origin })
      await addDirectory(builder, hostPath, imagePath, origin, where, warn)
    } else if (child.isSymbolicLink()) {
      let target
      try {
        target = await fs.readlink(hostPath)
      } catch (error) {
        throw sourceError(error, hostPath, where)
      }
      builder.addMapped(imagePath, { type: 'symlink', mode: 0o777, target, origin })
    } else if (child.isFile()) {
      let stat
      try {
        stat = await fs.stat(hostPath)
      } catch (error) {
        throw sourceError(error, hostPath, where)
      }
      await assertReadable(hostPath, where)
      builder.addMapped(imagePath, {
        type: 'file',
        mode: mappedFileMode(imagePath, stat.mode),
        source: { kind: 'path', path: hostPath, size: stat.size },
        origin
      })
    } else {
      warn(`skipping ${showPath(hostPath)}: not a regular file, folder or symlink (${origin}).`)
    }
  }
}

async function assertReadable(file: string, where: Where): Promise<void> {
  try {
    await fs.access(file, fs.constants.R_OK)
  } catch (error) {
    throw sourceError(error, file, where)
  }
}

function sourceError(error: unknown, file: string, where: Where): FledgeError {
  if (!isFileSystemError(error)) return error instanceof FledgeError ? error : new FledgeError(String(error), where)
  return fileError(error, file, {
    ...where,
    what: 'mapping source',
    verb: 'read',
    fixes: { ENOENT: 'sources are relative to the folder of fledge.toml; create the file or correct the path.' }
  })
}

function utf8Name(name: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(name)
  } catch {
    return undefined
  }
}
