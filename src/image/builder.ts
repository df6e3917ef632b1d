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

/**
 * Collects entries by image path and decides collisions before anything is
 * written: the kernel lets a later duplicate record win silently, we do not.
 * Generated entries (layout, busybox, init, agent) may be replaced by a
 * mapping, which is reported; two mappings on one path are an error.
 */
export class ImageBuilder {
  private readonly entries = new Map<string, Entry>()
  private readonly fromMapping = new Set<string>()
  readonly replacements: Replacement[] = []

  constructor() {
    this.entries.set('.', { path: '.', type: 'dir', mode: DIR_MODE, uid: 0, gid: 0, origin: 'root' })
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
    const archivePath = toArchivePath(imagePath)
    this.ensureParents(path.posix.dirname(`/${archivePath}`), entry.origin)
    const full: Entry = { uid: 0, gid: 0, ...entry, path: archivePath }
    const existing = this.entries.get(archivePath)
    if (existing) {
      if (existing.type === 'dir' && full.type === 'dir') {
        // Merging a folder into an existing one: the folder record stays 0755.
        if (mapped) this.fromMapping.add(archivePath)
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
      if (!mapped) {
        throw new Error(`internal: generated entry /${archivePath} added twice`)
      }
      this.replacements.push({ path: `/${archivePath}`, replaced: existing.origin, by: full.origin })
    }
    this.entries.set(archivePath, full)
    if (mapped) this.fromMapping.add(archivePath)
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
