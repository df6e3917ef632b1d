/**
 * The image is a value: a list of these records, validated and sorted before
 * one streaming pass writes them (see archive/). Paths are stored as in the
 * archive: relative, no leading slash, the root is ".".
 */
export type EntryType = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket'

/** Where a regular file's bytes come from. */
export type FileSource =
  | { kind: 'path'; path: string; size: number }
  | { kind: 'bytes'; data: Uint8Array }

export interface Entry {
  path: string
  type: EntryType
  /** Permission bits only (0o7777); the file-type bits come from `type`. */
  mode: number
  uid: number
  gid: number
  /** Regular files only. */
  source?: FileSource
  /** Symlinks only. */
  target?: string
  /** Character and block devices only. */
  rdev?: { major: number; minor: number }
  /** Why this entry is in the image, for reports ("busybox applet", "mapping payload/caddy"). */
  origin: string
}

export function entrySize(entry: Entry): number {
  if (entry.type === 'file' && entry.source) {
    return entry.source.kind === 'path' ? entry.source.size : entry.source.data.byteLength
  }
  if (entry.type === 'symlink' && entry.target !== undefined) return Buffer.byteLength(entry.target)
  return 0
}

/** "/usr/bin/caddy" → "usr/bin/caddy"; "/" → ".". */
export function toArchivePath(absolute: string): string {
  const trimmed = absolute.replace(/^\/+/, '').replace(/\/+$/, '')
  return trimmed === '' ? '.' : trimmed
}

/** "usr/bin/caddy" → "/usr/bin/caddy"; "." → "/". */
export function toImagePath(archivePath: string): string {
  return archivePath === '.' ? '/' : `/${archivePath}`
}

/** The origin of entries that come from `[source] image`'s layers. */
export function imageOrigin(reference: string): string {
  return `image ${reference}`
}

export function isFromImage(entry: Entry): boolean {
  return entry.origin.startsWith('image ')
}
