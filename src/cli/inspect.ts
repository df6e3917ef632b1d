import { readArchive, type ArchiveRecord } from '../archive/read.js'
import { escapeControls } from '../display.js'

/** The JSON shape `inspect --json` prints, one object per record. */
export interface InspectRecord {
  path: string
  type: ArchiveRecord['type']
  mode: string
  uid: number
  gid: number
  size: number
  mtime: number
  target?: string
  rdev?: string
  sha256?: string
}

export async function inspectArchive(file: string): Promise<InspectRecord[]> {
  const out: InspectRecord[] = []
  for await (const r of readArchive(file)) {
    const record: InspectRecord = {
      path: r.path,
      type: r.type,
      mode: r.mode.toString(8).padStart(4, '0'),
      uid: r.uid,
      gid: r.gid,
      size: r.size,
      mtime: r.mtime
    }
    if (r.target !== undefined) record.target = r.target
    if (r.rdev) record.rdev = `${r.rdev.major}:${r.rdev.minor}`
    if (r.sha256) record.sha256 = r.sha256
    out.push(record)
  }
  return out
}

const TYPE_CHAR: Record<InspectRecord['type'], string> = {
  dir: 'd',
  file: '-',
  symlink: 'l',
  char: 'c',
  block: 'b',
  fifo: 'p',
  socket: 's'
}

/** `ls -l`-like lines. */
export function formatListing(records: InspectRecord[]): string {
  return records
    .map((r) => {
      const perms = permissionString(parseInt(r.mode, 8))
      const size = r.rdev ?? String(r.size)
      // Names come from the archive: a newline or an escape sequence in one must not forge lines or colours.
      const name = r.target !== undefined ? `${shown(r.path)} -> ${shown(r.target)}` : shown(r.path)
      return `${TYPE_CHAR[r.type]}${perms} ${r.uid}/${r.gid} ${size.padStart(10)} ${name}`
    })
    .join('\n')
}

/** As `ls -b` would: a backslash doubled, so an escape in the output always stands for one byte. */
function shown(name: string): string {
  return escapeControls(name.replace(/\\/g, '\\\\'))
}

function permissionString(mode: number): string {
  const rwx = ['r', 'w', 'x']
  let s = ''
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? rwx[(8 - i) % 3] : '-'
  return s
}
