import * as fs from 'node:fs'
import type { Stats } from 'node:fs'
import * as path from 'node:path'
import { FledgeError, type ErrorLocation } from './errors.js'
import { decodeBytes, showPath } from './display.js'

/**
 * The one place that turns an errno from reading or writing a user's file
 * (config, manifest, mapped sources, the output, the step summary) into a
 * sentence that names the path, the cause and the fix.
 */

export type FileVerb = 'read' | 'write' | 'create' | 'list'

export interface FileErrorOptions extends ErrorLocation {
  /** "the config file", "mapping source", "the output" */
  what: string
  verb: FileVerb
  /** A fix for one errno code that knows more than the generic one. */
  fixes?: Partial<Record<string, string>>
  /** A message for one errno code, where the caller's wording is better known (tests, README). */
  messages?: Partial<Record<string, string>>
}

export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** True for the errors `fileError` explains (anything else is a bug to show as is). */
export function isFileSystemError(error: unknown): boolean {
  const code = errnoCode(error)
  return code !== undefined && /^E[A-Z]+$/.test(code) && (error as NodeJS.ErrnoException).syscall !== undefined
}

export function fileError(error: unknown, file: string | Uint8Array, options: FileErrorOptions): FledgeError {
  const { what, verb, fixes, messages, ...location } = options
  const code = errnoCode(error) ?? 'EIO'
  const shown = showPath(file)
  // When the location already names the file, the sentence need not repeat it.
  const subject = location.file === file ? what : `${what} ${shown}`
  const raw = typeof file === 'string' ? file : decodeBytes(file)
  const where = verb === 'read' || verb === 'list' ? raw : path.dirname(raw)
  let message: string
  let fix: string
  switch (code) {
    case 'ENOENT':
      if (verb === 'read' || verb === 'list') {
        message = location.file === file ? `${what} not found.` : `${what} not found: ${shown}.`
        fix = 'check the path.'
      } else {
        message = `cannot ${verb} ${subject}: its folder ${showPath(where)} does not exist.`
        fix = 'create the folder first, or choose another path.'
      }
      break
    case 'EACCES':
    case 'EPERM':
      message = `cannot ${verb} ${subject} (permission denied).`
      fix =
        verb === 'read' || verb === 'list'
          ? `make it readable by the build user (chmod a+r${verb === 'list' ? 'X' : ''} ${shown}).`
          : `make ${showPath(where)} writable by the build user, or choose a folder it can write to.`
      break
    case 'EISDIR':
      message = `${subject} is a folder, not a file.`
      fix = verb === 'read' ? 'pass the path of a file.' : 'name a file, not a folder.'
      break
    case 'ENOTDIR':
      message = `cannot ${verb} ${subject}: a part of the path is a file, not a folder.`
      fix = 'correct the path: every part before the last must be a folder.'
      break
    case 'EROFS':
      message = `cannot ${verb} ${subject}: the file system is read-only.`
      fix = 'write to a writable folder instead (the workspace, or $RUNNER_TEMP).'
      break
    case 'ENOSPC':
    case 'EDQUOT':
      message = `cannot ${verb} ${subject}: no space left on the device (disk full${code === 'EDQUOT' ? ' for this user' : ''}).`
      fix = `free space on the file system of ${showPath(where)} (df -h), or write to another one.`
      break
    case 'EEXIST':
      message = `cannot ${verb} ${subject}: a file of that name is in the way.`
      fix = 'remove or rename the file that is in the way, or choose another path.'
      break
    case 'ENAMETOOLONG':
      message = `cannot ${verb} ${subject}: the name is too long (at most 255 bytes per name and 4095 per path).`
      fix = 'use a shorter path.'
      break
    case 'EMFILE':
    case 'ENFILE':
      message = `cannot ${verb} ${subject}: too many open files.`
      fix = 'raise the open-file limit (ulimit -n 4096) and run again.'
      break
    case 'ELOOP':
      message = `cannot ${verb} ${subject}: too many levels of symbolic links.`
      fix = 'check for a symbolic link that points to itself.'
      break
    case 'EIO':
      message = `cannot ${verb} ${subject}: input/output error.`
      fix = 'the device or file system failed (see dmesg), or this is a special file that cannot be copied: map a regular copy.'
      break
    case 'ENXIO':
      message = `cannot ${verb} ${subject}: it is a socket or a device without a driver, not a file.`
      fix = 'pass the path of a regular file.'
      break
    default:
      message = `cannot ${verb} ${subject} (${code}).`
      fix = `check ${shown} and its permissions.`
  }
  return new FledgeError(messages?.[code] ?? message, { ...location, fix: fixes?.[code] ?? fix })
}

export interface ReadLimits extends Omit<FileErrorOptions, 'verb'> {
  /** Larger files are refused without being read. */
  maxBytes: number
  /** What a file of the right kind looks like, for the fix ("a fledge.toml is a few hundred bytes"). */
  sizeHint?: string
}

export const MiB = 1024 * 1024

/**
 * Reads a small file (config, manifest) that must be a regular file: a
 * FIFO, device or socket is refused before reading, so `-c` at a FIFO or
 * /dev/zero ends at once; a file above `maxBytes` is refused. Synchronous:
 * these files are small, and the manifest generator is synchronous.
 */
export function readRegularFile(file: string, limits: ReadLimits): Buffer {
  const { maxBytes, sizeHint, ...options } = limits
  const fail = (error: unknown) => fileError(error, file, { ...options, verb: 'read' })
  const refuseKind = (stat: Stats) => {
    if (stat.isFile()) return
    if (stat.isDirectory()) throw fail(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }))
    throw new FledgeError(`${options.what} ${showPath(file)} is a ${kindOf(stat)}, not a regular file.`, {
      ...locationOf(options),
      fix: 'pass the path of a regular file.'
    })
  }
  const limit = maxBytes >= 1024 ? `${formatSize(maxBytes)} (${maxBytes} bytes)` : `${maxBytes} bytes`
  /** `size` undefined: the file grew past the limit while it was read. */
  const tooBig = (size?: number) =>
    new FledgeError(
      size === undefined
        ? `${options.what} ${showPath(file)} is larger than the limit of ${limit}.`
        : `${options.what} ${showPath(file)} is ${formatSize(size)} (${size} bytes); the limit is ${limit}.`,
      { ...locationOf(options), fix: sizeHint ?? 'check that the path names the right file.' }
    )
  let descriptor: number
  try {
    refuseKind(fs.statSync(file))
    // O_NONBLOCK: should the path become a FIFO after the check, open still returns at once.
    descriptor = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (error) {
    throw error instanceof FledgeError ? error : fail(error)
  }
  try {
    const opened = fs.fstatSync(descriptor)
    refuseKind(opened)
    if (opened.size > maxBytes) throw tooBig(opened.size)
    // One byte more than allowed: a file that grows while it is read is caught too.
    const buffer = Buffer.alloc(maxBytes + 1)
    let filled = 0
    while (filled < buffer.length) {
      const read = fs.readSync(descriptor, buffer, filled, buffer.length - filled, filled)
      if (read === 0) break
      filled += read
    }
    if (filled > maxBytes) throw tooBig()
    return buffer.subarray(0, filled)
  } catch (error) {
    throw error instanceof FledgeError ? error : fail(error)
  } finally {
    fs.closeSync(descriptor)
  }
}

function locationOf(options: ErrorLocation): ErrorLocation {
  const { file, line, column, key } = options
  return { file, line, column, key }
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'FIFO (named pipe)'
  if (stat.isSocket()) return 'socket'
  if (stat.isCharacterDevice()) return 'character device'
  if (stat.isBlockDevice()) return 'block device'
  return 'special file'
}

function formatSize(bytes: number): string {
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}
