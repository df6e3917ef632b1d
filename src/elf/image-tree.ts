import type { Entry } from '../image/entry.js'

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINK_HOPS = 40

/** Path lookups inside the image being built, following its own symlinks, never the host's. */
export class ImageTree {
  private readonly byPath = new Map<string, Entry>()

  constructor(entries: readonly Entry[]) {
    // A later entry for the same path replaces an earlier one, as mappings overwrite.
    for (const entry of entries) this.byPath.set(entry.path, entry)
  }

  /**
   * The entry an absolute or archive-relative path leads to, following
   * symlinks in the last component and in any folder on the way
   * (`lib64 -> usr/lib64` layouts). undefined when it leads nowhere.
   */
  resolve(path: string): { path: string; entry: Entry } | undefined {
    let pending = components(path)
    let resolved: string[] = []
    let hops = 0
    while (pending.length > 0) {
      const [part, ...rest] = pending
      pending = rest
      if (part === '..') {
        resolved.pop()
        continue
      }
      resolved.push(part as string)
      const entry = this.byPath.get(resolved.join('/'))
      if (entry?.type !== 'symlink' || entry.target === undefined) continue
      if (++hops > MAX_SYMLINK_HOPS) return undefined
      resolved.pop()
      if (entry.target.startsWith('/')) resolved = []
      pending = [...components(entry.target), ...pending]
    }
    const finalPath = resolved.length === 0 ? '.' : resolved.join('/')
    const entry = this.byPath.get(finalPath)
    return entry ? { path: finalPath, entry } : undefined
  }
}

function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.')
}
