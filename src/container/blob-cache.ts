/**
 * Image blobs (manifests, configs, layers) by digest: in the tool cache when
 * caching (re-hashed on every use, see sources/cache.ts), else in the build's
 * temp folder. Nothing is kept whose bytes do not hash to its digest.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import type { Logger } from '../log.js'
import { findVerified, storeVerified, type CacheSlot } from '../sources/cache.js'

export interface BlobStoreContext {
  log: Logger
  useCache: boolean
  /** The build's temp folder: blobs when not caching, downloads on their way into the cache. */
  tempDir: string
}

const SHA256 = /^sha256:([0-9a-f]{64})$/

/** The hex of a "sha256:<hex>" digest; any other algorithm or form is refused, naming `where`. */
export function digestHex(digest: string, where: string): string {
  const match = SHA256.exec(digest)
  if (!match) {
    throw new FledgeError(`${where} names the digest "${digest}", which is not a sha256 digest.`, {
      fix: 'use an image whose manifests use sha256 digests (every registry and docker does by default).'
    })
  }
  return match[1]!
}

export const sha256Digest = (bytes: Buffer): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** The one refusal for bytes that do not match their digest. */
export function digestMismatch(
  what: string,
  digest: string,
  actual: string,
  from: string
): FledgeError {
  return new FledgeError(
    `${what} ${digest} from ${from} does not match its digest: its bytes hash to ${actual}; refused.`,
    {
      fix: 'the source served corrupted or altered content: pull again, and if it persists check the registry, proxy or file, or rebuild the image.'
    }
  )
}

const slot = (hex: string): CacheSlot => ({
  tool: 'fledge-image-blobs',
  key: `sha256-${hex}`,
  file: 'blob',
  what: `image blob sha256:${hex}`
})

/** The verified local copy of `digest`, or undefined when it has to be fetched. */
export async function findBlob(
  digest: string,
  context: BlobStoreContext
): Promise<string | undefined> {
  if (!context.useCache) return undefined
  const hex = digestHex(digest, 'the image')
  return (await findVerified(slot(hex), hex, context.log))?.path
}

/**
 * Fills `dest` (a fresh file in the temp folder) through `fetch`, checks its
 * sha256 against `digest`, and keeps it: in the cache, or where it is.
 */
export async function keepBlob(
  digest: string,
  what: string,
  from: string,
  /** May return the hex sha256 it computed while writing, saving a second read. */
  fetch: (dest: string) => Promise<string | void>,
  context: BlobStoreContext
): Promise<string> {
  const hex = digestHex(digest, what)
  const folder = path.join(context.tempDir, 'blobs')
  await fs.mkdir(folder, { recursive: true })
  const dest = path.join(folder, hex)
  try {
    const hashed = await fetch(dest)
    const actual = `sha256:${hashed ?? (await sha256File(dest))}`
    if (actual !== digest) throw digestMismatch(what, digest, actual, from)
    if (!context.useCache) return dest
    return (await storeVerified(dest, slot(hex), hex, context.log)).path
  } catch (error) {
    await fs.rm(dest, { force: true })
    throw error
  } finally {
    if (context.useCache) await fs.rm(dest, { force: true })
  }
}

/** Bytes already in hand (a manifest), checked and kept like any blob. */
export async function keepBytes(
  digest: string,
  what: string,
  from: string,
  bytes: Buffer,
  context: BlobStoreContext
): Promise<string> {
  return keepBlob(digest, what, from, (dest) => fs.writeFile(dest, bytes), context)
}
