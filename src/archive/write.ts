import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { removeLater } from '../cleanup.js'
import type { Entry } from '../image/entry.js'
import { cpioStream } from './cpio-stream.js'
import { compressStream } from './compress.js'
import { DEFAULT_COMPRESSION, type Compression } from './compression.js'
import type { GzipOptions } from './gzip.js'

export interface ArchiveResult {
  path: string
  /** sha256 of the compressed file: what the manifest's checksum carries. */
  sha256: string
  size: number
  /** sha256 of the uncompressed cpio: independent of the compressor. */
  contentSha256: string
  contentSize: number
  /** Image path → sha256 of each regular file's bytes. */
  fileDigests: Map<string, string>
}

export interface WriteOptions {
  mtime: number
  /** Default: gzip at its default level. */
  compression?: Compression
  gzip?: Partial<GzipOptions>
}

/**
 * One pass: source files → newc records → compressor → sha256 → a temp
 * file beside the output, renamed into place only when complete.
 */
export async function writeArchive(
  entries: readonly Entry[],
  output: string,
  options: WriteOptions
): Promise<ArchiveResult> {
  const target = path.resolve(output)
  await fs.mkdir(path.dirname(target), { recursive: true })
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  )
  const fileDigests = new Map<string, string>()
  const content = createHash('sha256')
  const compressed = createHash('sha256')
  let contentSize = 0
  let size = 0
  // Registered before it exists: a signal while it is being created still removes it.
  const tempFile = removeLater(temp)
  let handle: fs.FileHandle | undefined
  try {
    handle = await fs.open(temp, 'wx', 0o644)
    const cpio = cpioStream(entries, {
      mtime: options.mtime,
      onFileDigest: (entry, sha) => fileDigests.set(entry.path, sha)
    })
    const stream = compressStream(
      cpio,
      options.compression ?? DEFAULT_COMPRESSION,
      options.gzip ? { gzip: options.gzip } : {},
      (chunk) => {
        content.update(chunk)
        contentSize += chunk.length
      }
    )
    for await (const chunk of stream) {
      compressed.update(chunk)
      size += chunk.length
      await handle.write(chunk)
    }
    await handle.sync()
    await handle.close()
    await fs.rename(temp, target)
    tempFile.release()
  } catch (error) {
    await handle?.close().catch(() => {})
    await tempFile.dispose()
    throw error
  }
  return {
    path: target,
    sha256: compressed.digest('hex'),
    size,
    contentSha256: content.digest('hex'),
    contentSize,
    fileDigests
  }
}
