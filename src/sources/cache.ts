import * as os from 'node:os'
import * as path from 'node:path'
import * as fs from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { removeLater } from '../cleanup.js'
import { sha256File } from '../hash.js'
import type { Logger } from '../log.js'
import { diskFullError } from './http.js'

/**
 * Downloads and compiled inits live in @actions/tool-cache's layout under
 * RUNNER_TOOL_CACHE: <tool>/0.0.0-<key>/<arch>, complete once <arch>.complete
 * exists (tool-cache only finds semver, hence the 0.0.0- prefix), so caches
 * written by earlier versions are still found. Outside Actions the cache sits in
 * the user's cache folder.
 *
 * The code is our own, not tool-cache's: tc.cacheDir deletes and refills an
 * entry folder in place, so concurrent builds sharing a cache saw half entries
 * (raw ENOENT), and tc.find prints ::debug:: lines into the CLI's output. An
 * entry is assembled in a staging folder beside it and renamed into place in one
 * step; it records the sha256 of its file, and every use re-hashes the file
 * against the pinned or recorded sha256.
 */
const ARCH = 'any'
const RECORD = 'fledge-entry.json'

export interface CacheFolders {
  toolCache: string
  temp: string
}

/** RUNNER_TOOL_CACHE and RUNNER_TEMP when set (read, never written: the engine leaves process.env alone), else the user's folders. */
export function cacheFolders(env: NodeJS.ProcessEnv = process.env): CacheFolders {
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache')
  return {
    toolCache: env['RUNNER_TOOL_CACHE'] || path.join(base, 'fledge-action', 'tool-cache'),
    temp: env['RUNNER_TEMP'] || path.join(os.tmpdir(), `fledge-action-${process.getuid?.() ?? 'user'}`)
  }
}

export function cacheVersion(key: string): string {
  return `0.0.0-${key.replace(/[^0-9A-Za-z-]/g, '-')}`
}

export interface CachedFile {
  path: string
  size: number
  /** Of the bytes on disk now, re-hashed on this use. */
  sha256: string
}

export interface CacheSlot {
  tool: string
  key: string
  /** The file's name inside the entry. */
  file: string
  /** For messages: "busybox", "the compiled init". */
  what: string
}

/**
 * The slot's file if it is cached and its bytes hash to `expected` (or, unpinned,
 * to the sha256 recorded when it was stored). A changed, truncated or unreadable
 * entry is evicted with a warning naming it, and undefined returned so the caller
 * fetches or compiles it again.
 */
export async function findVerified(slot: CacheSlot, expected: string | undefined, log: Logger): Promise<CachedFile | undefined> {
  const found = entryPath(slot)
  if (!(await isFile(`${found}.complete`))) return undefined
  const checked = await checkEntry(found, slot.file, expected)
  if ('problem' in checked) {
    log.warn(`the cached ${slot.what} at ${path.join(found, slot.file)} ${checked.problem}; removed it, getting ${slot.what} again.`)
    await evict(found)
    return undefined
  }
  log.debug(`${slot.what}: cache hit ${checked.path}`)
  return checked
}

/** Copies `source` (whose bytes hash to `sha256`) into the slot, atomically; returns the cached file. */
export async function storeVerified(source: string, slot: CacheSlot, sha256: string, log: Logger): Promise<CachedFile> {
  const root = cacheFolders().toolCache
  const entry = entryPath(slot)
  let staging: string | undefined
  try {
    await fs.mkdir(path.join(root, slot.tool), { recursive: true })
    staging = await fs.mkdtemp(path.join(root, slot.tool, `.staging-${ARCH}-`))
    const { size } = await fs.stat(source)
    await fs.copyFile(source, path.join(staging, slot.file))
    await fs.writeFile(path.join(staging, RECORD), JSON.stringify({ file: slot.file, sha256, size }))
    await fs.mkdir(path.dirname(entry), { recursive: true })
    for (let tries = 1; ; tries++) {
      if (await renameIfAbsent(staging, entry)) break
      // Another build stored it first (same key, same bytes): use theirs if it checks out.
      const theirs = await checkEntry(entry, slot.file, sha256)
      if (!('problem' in theirs)) break
      if (tries === 2) throw new Error(`internal: cannot replace the cache entry ${entry} (${theirs.problem})`)
      log.warn(`the cached ${slot.what} at ${path.join(entry, slot.file)} ${theirs.problem}; replacing it.`)
      await evict(entry)
    }
    await fs.writeFile(`${entry}.complete`, '')
  } catch (error) {
    throw diskFullError(error, root, slot.what, 'RUNNER_TOOL_CACHE')
  } finally {
    if (staging) await fs.rm(staging, { recursive: true, force: true })
  }
  // What is used is the copy in the cache: its own hash, not the download's.
  const stored = await checkEntry(entry, slot.file, sha256)
  if ('problem' in stored) throw new Error(`internal: the cache entry ${entry} ${stored.problem} right after it was stored`)
  return stored
}

function entryPath(slot: CacheSlot): string {
  return path.join(cacheFolders().toolCache, slot.tool, cacheVersion(slot.key), ARCH)
}

const isFile = (file: string): Promise<boolean> => fs.stat(file).then((s) => s.isFile(), () => false)

async function renameIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await fs.rename(from, to)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false
    throw error
  }
}

async function checkEntry(dir: string, file: string, expected: string | undefined): Promise<CachedFile | { problem: string }> {
  const target = path.join(dir, file)
  const recorded = await fs
    .readFile(path.join(dir, RECORD), 'utf8')
    .then((text) => JSON.parse(text) as { sha256?: unknown; size?: unknown }, () => undefined)
  const want = expected ?? (typeof recorded?.sha256 === 'string' ? recorded.sha256 : undefined)
  const stat = await fs.stat(target).catch(() => undefined)
  if (!stat?.isFile()) return { problem: 'is missing' }
  if (!want) return { problem: 'has no recorded sha256 to check it against' }
  const actual = await sha256File(target).catch((error: NodeJS.ErrnoException) => `unreadable (${error.code ?? error.message})`)
  if (actual === want) return { path: target, size: stat.size, sha256: actual }
  const truncated = typeof recorded?.size === 'number' && stat.size < recorded.size
  return {
    problem: truncated
      ? `is truncated (${stat.size} of ${recorded.size} bytes)`
      : `does not match its sha256 (expected ${want}, got ${actual})`
  }
}

/** Out of sight first (marker, then a rename), so no build picks up a half-deleted entry. */
async function evict(dir: string): Promise<void> {
  await fs.rm(`${dir}.complete`, { force: true })
  const trash = path.join(path.dirname(path.dirname(dir)), `.evicted-${randomBytes(6).toString('hex')}`)
  try {
    await fs.rename(dir, trash)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  await fs.rm(trash, { recursive: true, force: true })
}

/** A fresh private folder under RUNNER_TEMP, removed when the build (or process) ends. */
export async function makeTempDir(prefix: string): Promise<string> {
  const root = cacheFolders().temp
  await fs.mkdir(root, { recursive: true })
  const dir = await fs.mkdtemp(path.join(root, `${prefix}-`))
  removeLater(dir)
  return dir
}

/**
 * Fetches `file` into a fresh temp folder; when caching, stores it in the slot
 * `slotFor(sha256)` and removes the temp folder. Without the cache the temp file
 * is what is used.
 */
export async function fetchAndStore(
  file: string,
  useCache: boolean,
  fetch: (dest: string) => Promise<{ sha256: string; size: number }>,
  slotFor: (sha256: string) => CacheSlot,
  log: Logger
): Promise<CachedFile> {
  const temp = await makeTempDir(file)
  const dest = path.join(temp, file)
  let keepTemp = false
  try {
    const fetched = await fetch(dest)
    if (useCache) return await storeVerified(dest, slotFor(fetched.sha256), fetched.sha256, log)
    keepTemp = true
    return { path: dest, ...fetched }
  } finally {
    if (!keepTemp) await fs.rm(temp, { recursive: true, force: true })
  }
}
