import * as fs from 'node:fs/promises'
import { existsSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/**
 * Downloads and compiled inits live in @actions/tool-cache's layout
 * (`<cache>/<tool>/<version>/<arch>` plus a `<arch>.complete` marker), so a
 * runner's tool cache and actions/cache keep working. Keys are
 * content-addressed and become the prerelease part of `0.0.0-<key>`. The
 * folders come from RUNNER_TOOL_CACHE and RUNNER_TEMP when set (read, never
 * written: the engine leaves process.env alone), else the user's cache folder.
 */
const ARCH = 'any'

export interface CacheFolders {
  toolCache: string
  temp: string
}

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

function cachedFolder(tool: string, key: string): string {
  return path.join(cacheFolders().toolCache, tool, cacheVersion(key), ARCH)
}

/** The cached folder for `key`, or undefined. */
export function findCached(tool: string, key: string): string | undefined {
  const folder = cachedFolder(tool, key)
  return existsSync(folder) && existsSync(`${folder}.complete`) ? folder : undefined
}

/** Stores a folder's contents under `key` and returns the cached folder. */
export async function storeCached(dir: string, tool: string, key: string): Promise<string> {
  const folder = cachedFolder(tool, key)
  await fs.rm(`${folder}.complete`, { force: true })
  await fs.rm(folder, { recursive: true, force: true })
  await fs.mkdir(folder, { recursive: true })
  await fs.cp(dir, folder, { recursive: true })
  await fs.writeFile(`${folder}.complete`, '')
  return folder
}

/** A fresh private folder under the temp folder. */
export async function makeTempDir(prefix: string): Promise<string> {
  const root = cacheFolders().temp
  await fs.mkdir(root, { recursive: true })
  return fs.mkdtemp(path.join(root, `${prefix}-`))
}
