import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Mapping } from '../config/types.js'
import { FledgeError } from '../errors.js'
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
  const origin = `mapping "${mapping.source}"`
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
    throw new FledgeError(`mapping source ${mapping.sourcePath} is not a regular file or folder.`, {
      ...where,
      fix: 'map regular files or folders only.'
    })
  }
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
    children = await fs.readdir(sourceDir, { withFileTypes: true })
  } catch (error) {
    throw sourceError(error, sourceDir, where)
  }
  for (const child of children) {
    const hostPath = path.join(sourceDir, child.name)
    const imagePath = `${destination}/${child.name}`
    if (child.isDirectory()) {
      builder.addMapped(imagePath, { type: 'dir', mode: DIR_MODE, origin })
      await addDirectory(builder, hostPath, imagePath, origin, where, warn)
    } else if (child.isSymbolicLink()) {
      builder.addMapped(imagePath, { type: 'symlink', mode: 0o777, target: await fs.readlink(hostPath), origin })
    } else if (child.isFile()) {
      const stat = await fs.stat(hostPath)
      await assertReadable(hostPath, where)
      builder.addMapped(imagePath, {
        type: 'file',
        mode: mappedFileMode(imagePath, stat.mode),
        source: { kind: 'path', path: hostPath, size: stat.size },
        origin
      })
    } else {
      warn(`skipping ${hostPath}: not a regular file, folder or symlink (${origin}).`)
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
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') {
    return new FledgeError(`mapping source not found: ${file}.`, {
      ...where,
      fix: 'sources are relative to the folder of fledge.toml; create the file or correct the path.'
    })
  }
  if (code === 'EACCES') {
    return new FledgeError(`cannot read mapping source ${file} (permission denied).`, {
      ...where,
      fix: `make it readable by the build user (chmod a+r ${file}).`
    })
  }
  return new FledgeError(`cannot read mapping source ${file} (${code ?? String(error)}).`, where)
}
