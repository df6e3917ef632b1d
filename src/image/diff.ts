import type { ArchiveRecord } from '../archive/read.js'

export interface ImageDiff {
  added: ArchiveRecord[]
  removed: ArchiveRecord[]
  changed: { path: string; before: ArchiveRecord; after: ArchiveRecord; what: string[] }[]
}

/** What changed between two images, entry by entry (by path). */
export function diffImages(before: readonly ArchiveRecord[], after: readonly ArchiveRecord[]): ImageDiff {
  const old = new Map(before.map((r) => [r.path, r]))
  const diff: ImageDiff = { added: [], removed: [], changed: [] }
  for (const record of after) {
    const previous = old.get(record.path)
    old.delete(record.path)
    if (!previous) {
      diff.added.push(record)
      continue
    }
    const what: string[] = []
    if (previous.type !== record.type) what.push(`type ${previous.type} → ${record.type}`)
    if (previous.mode !== record.mode) what.push(`mode ${octal(previous.mode)} → ${octal(record.mode)}`)
    if (previous.uid !== record.uid || previous.gid !== record.gid) what.push(`owner ${previous.uid}:${previous.gid} → ${record.uid}:${record.gid}`)
    if (previous.size !== record.size) what.push(`size ${previous.size} → ${record.size} (${signed(record.size - previous.size)})`)
    else if (previous.sha256 !== record.sha256) what.push('content')
    if (previous.target !== record.target) what.push(`target ${previous.target ?? '-'} → ${record.target ?? '-'}`)
    const rdev = (r: ArchiveRecord) => (r.rdev ? `${r.rdev.major}:${r.rdev.minor}` : '-')
    if (rdev(previous) !== rdev(record)) what.push(`device ${rdev(previous)} → ${rdev(record)}`)
    if (what.length > 0) diff.changed.push({ path: record.path, before: previous, after: record, what })
  }
  diff.removed = [...old.values()]
  return diff
}

export function formatDiff(diff: ImageDiff): string {
  const lines: string[] = []
  for (const r of diff.added) lines.push(`+ /${r.path} (${r.type}, ${octal(r.mode)}, ${r.size} bytes)`)
  for (const r of diff.removed) lines.push(`- /${r.path} (${r.type}, ${octal(r.mode)}, ${r.size} bytes)`)
  for (const c of diff.changed) lines.push(`~ /${c.path}: ${c.what.join(', ')}`)
  const total = (rs: readonly ArchiveRecord[]) => rs.reduce((n, r) => n + r.size, 0)
  lines.push(
    `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed` +
      ` (payload ${signed(total(diff.added) - total(diff.removed) + diff.changed.reduce((n, c) => n + c.after.size - c.before.size, 0))} bytes)`
  )
  return lines.join('\n')
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0')
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n)
}
