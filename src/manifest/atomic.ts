import { randomBytes } from 'node:crypto'
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { FledgeError } from '../errors.js'
import { fileError, isFileSystemError } from '../user-files.js'

export type AtomicData = string | Uint8Array | AsyncIterable<Uint8Array>

/**
 * Replace `path` with `data` so that a reader sees either the old file or
 * the complete new one, never a half-written file: write a temp file in the
 * same folder (rename is only atomic within one filesystem), fsync it, then
 * rename it over the target. On any failure the temp file is removed and the
 * original is untouched. An existing file's permission bits are kept.
 */
export async function writeFileAtomic(path: string, data: AtomicData): Promise<void> {
  const folder = dirname(path)
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const mode = await existingMode(path)
  let handle: FileHandle | undefined
  try {
    handle = await open(temp, 'wx', mode ?? 0o666)
    // the umask applied at creation; an existing file's bits are restored exactly
    if (mode !== undefined) await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(temp, path)
  } catch (error) {
    await handle?.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    if (isFileSystemError(error)) throw fileError(error, path, { file: path, what: 'the file', verb: 'write' })
    throw new FledgeError(`could not write the file: ${describe(error)}`, {
      file: path,
      fix: 'check that the folder exists, is writable and that the path is not a directory.'
    })
  }
  await syncFolder(folder)
}

async function existingMode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o7777
  } catch {
    return undefined
  }
}

/** Makes the rename itself durable; some platforms cannot open a folder for fsync, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(folder, 'r')
    await handle.sync()
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined)
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
