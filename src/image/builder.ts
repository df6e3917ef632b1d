import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import { toArchivePath, type Entry } from './entry.js'
import { DIR_MODE } from './modes.js'

export interface Replacement {
  path: string
  replaced: string
  by: string
}

type NewEntry = Omit<Entry, 'path' | 'uid' | 'gid'> & { uid?: number; gid?: number }

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINK_HOPS = 40

/**
 * Collects entries by image path and decides collisions before anything is
 * written: the kernel lets a later duplicate record win silently, we do not.
 * Generated entries (layout, busybox, init, agent) may be replaced by a
 * mapping, which is reported; two mappings on one path are an error.
 *
 * A container image's filesystem (`[source] image`) is the base under all of
 * them: generated entries and mappings replace its files with a report, its
 * folders keep their own mode and owner, and a folder the image made a
 * symlink (`bin -> usr/bin`) is followed inside the image, as copying into
 * a real tree would.
 */
export class ImageBuilder {
  private readonly entries = new Map<string, Entry>()
  private readonly fromMapping = new Set<string>()
  private readonly fromImage = new Set<string>()
  readonly replacements: Replacement[] = []

  constructor() {
    this.entries.set('.', { path: '.', type: 'dir', mode: DIR_MODE, uid: 0, gid: 0, origin: 'root' })
  }

  /** The container image's entries (parents included), before anything else. */
  addImage(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.path === '.') continue
      this.entries.set(entry.path, entry)
      this.fromImage.add(entry.path)
    }
  }

  /** `imagePath` is absolute ("/usr/bin/caddy"). */
  addGenerated(imagePath: string, entry: NewEntry): void {
    this.put(imagePath, entry, false)
  }

  addMapped(imagePath: string, entry: NewEntry): void {
    this.put(imagePath, entry, true)
  }

  has(imagePath: string): boolean {
    return this.entries.has(toArchivePath(imagePath))
  }

  get(imagePath: string): Entry | undefined {
    return this.entries.get(toArchivePath(imagePath))
  }

  /** All entries, parents before children, byte-wise by path; root first. */
  sorted(): Entry[] {
    const list = [...this.entries.values()]
    const keyed = list.map((entry) => ({ entry, key: Buffer.from(entry.path, 'utf8') }))
    keyed.sort((a, b) => {
      if (a.entry.path === '.') return -1
      if (b.entry.path === '.') return 1
      return Buffer.compare(a.key, b.key)
    })
    return keyed.map((k) => k.entry)
  }

  private put(imagePath: string, entry: NewEntry, mapped: boolean): void {
    const archivePath = this.place(imagePath)
    this.ensureParents(path.posix.dirname(`/${archivePath}`), entry.origin)
    const full: Entry = { uid: 0, gid: 0, ...entry, path: archivePath }
    const existing = this.entries.get(archivePath)
    const fromImage = this.fromImage.has(archivePath)
    if (existing) {
      if (existing.type === 'dir' && full.type === 'dir') {
        // Merging a folder into an existing one: the folder record stays (0755, or the image's own).
        if (mapped) this.fromMapping.add(archivePath)
        return
      }
      if (fromImage && existing.type === 'symlink' && full.type === 'dir' && this.resolvesToFolder(archivePath)) {
        // The image's `bin -> usr/bin`: the folder is there, through the link.
        return
      }
      if (existing.type === 'dir' || full.type === 'dir') {
        throw new FledgeError(
          `${full.origin} would put a ${full.type === 'dir' ? 'folder' : 'file'} at /${archivePath}, where ${existing.origin} has a ${existing.type === 'dir' ? 'folder' : 'file'}.`,
          { fix: 'map it to a different destination.' }
        )
      }
      if (mapped && this.fromMapping.has(archivePath)) {
        throw new FledgeError(
          `two mappings write /${archivePath}: ${existing.origin} and ${full.origin}.`,
          { fix: 'keep one of them, or give them different destinations.' }
        )
      }
      if (!mapped && !fromImage) {
        throw new Error(`internal: generated entry /${archivePath} added twice`)
      }
      this.replacements.push({ path: `/${archivePath}`, replaced: existing.origin, by: full.origin })
    }
    this.entries.set(archivePath, full)
    this.fromImage.delete(archivePath)
    if (mapped) this.fromMapping.add(archivePath)
  }

  /**
   * The archive path for `imagePath`: its parent folders followed through
   * the image's own symlinks, inside the image root (a link above the root
   * stays at the root). The last component is not followed: a file replaces
   * a symlink there.
   */
  private place(imagePath: string): string {
    const archivePath = toArchivePath(imagePath)
    if (this.fromImage.size === 0 || archivePath === '.') return archivePath
    const parts = archivePath.split('/')
    const name = parts.pop() as string
    const dir = this.followImageLinks(parts)
    if (dir === undefined) return archivePath
    return dir === '' ? name : `${dir}/${name}`
  }

  private followImageLinks(parts: string[]): string | undefined {
    let pending = [...parts]
    const resolved: string[] = []
    let hops = 0
    while (pending.length > 0) {
      const [part, ...rest] = pending as [string, ...string[]]
      pending = rest
      if (part === '' || part === '.') continue
      if (part === '..') {
        resolved.pop()
        continue
      }
      resolved.push(part)
      const here = resolved.join('/')
      const existing = this.entries.get(here)
      if (existing?.type !== 'symlink' || existing.target === undefined || !this.fromImage.has(here)) continue
      if (++hops > MAX_SYMLINK_HOPS) return undefined
      resolved.pop()
      if (existing.target.startsWith('/')) resolved.length = 0
      pending = [...existing.target.split('/'), ...pending]
    }
    return resolved.join('/')
  }

  private resolvesToFolder(archivePath: string): boolean {
    const dir = this.followImageLinks(archivePath.split('/'))
    if (dir === undefined) return false
    return dir === '' || this.entries.get(dir)?.type === 'dir'
  }

  private ensureParents(dir: string, origin: string): void {
    if (dir === '/' || dir === '.') return
    const archivePath = toArchivePath(dir)
    const existing = this.entries.get(archivePath)
    if (existing) {
      if (existing.type === 'dir') return
      throw new FledgeError(
        `${origin} needs /${archivePath} to be a folder, but ${existing.origin} puts a ${existing.type} there.`,
        { fix: 'change one of the destinations.' }
      )
    }
    this.ensureParents(path.posix.dirname(dir), origin)
    this.entries.set(archivePath, {
      path: archivePath,
      type: 'dir',
      mode: DIR_MODE,
      uid: 0,
      gid: 0,
      origin: `parent folder for ${origin}`
    })
  }
}
