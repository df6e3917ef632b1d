import * as os from 'node:os'
import * as path from 'node:path'
import * as fs from 'node:fs/promises'
import * as tc from '@actions/tool-cache'
import { removeLater } from '../cleanup.js'

/**
 * Downloads and compiled inits live in @actions/tool-cache's layout. Keys are
 * content-addressed; tool-cache only finds valid semver, so a key becomes
 * the prerelease part of `0.0.0-<key>`. Outside Actions the cache sits in the
 * user's cache folder.
 */
const ARCH = 'any'

export function ensureCacheEnvironment(): void {
  if (process.env['RUNNER_TOOL_CACHE'] && process.env['RUNNER_TEMP']) return
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache')
  process.env['RUNNER_TOOL_CACHE'] ||= path.join(base, 'fledge-action', 'tool-cache')
  process.env['RUNNER_TEMP'] ||= path.join(os.tmpdir(), `fledge-action-${process.getuid?.() ?? 'user'}`)
}

export function cacheVersion(key: string): string {
  return `0.0.0-${key.replace(/[^0-9A-Za-z-]/g, '-')}`
}

/** The cached folder for `key`, or undefined. */
export function findCached(tool: string, key: string): string | undefined {
  ensureCacheEnvironment()
  const found = tc.find(tool, cacheVersion(key), ARCH)
  return found === '' ? undefined : found
}

/** Stores a folder's contents under `key` and returns the cached folder. */
export async function storeCached(dir: string, tool: string, key: string): Promise<string> {
  ensureCacheEnvironment()
  return tc.cacheDir(dir, tool, cacheVersion(key), ARCH)
}

/** A fresh private folder under RUNNER_TEMP, removed when the build (or process) ends. */
export async function makeTempDir(prefix: string): Promise<string> {
  ensureCacheEnvironment()
  const root = process.env['RUNNER_TEMP'] as string
  await fs.mkdir(root, { recursive: true })
  const dir = await fs.mkdtemp(path.join(root, `${prefix}-`))
  removeLater(dir)
  return dir
}
