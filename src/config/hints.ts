import { showKey } from '../display.js'

/**
 * Known keys per table, and what an unknown key most likely meant. Maps, not
 * objects: a user's key such as `constructor` must not find Object's.
 */
export const KNOWN_KEYS: ReadonlyMap<string, readonly string[]> = new Map([
  ['', ['version', 'strategy', 'agent', 'init', 'source', 'filesystem', 'mappings']],
  ['agent', ['source_strategy', 'version', 'path', 'url', 'checksum']],
  ['init', ['path', 'none']],
  ['source', ['busybox_url', 'busybox_sha256', 'image', 'dockerfile', 'context', 'target', 'build_args']]
])

const TABLE_OF_KEY = new Map<string, string>()
for (const [table, keys] of KNOWN_KEYS) {
  for (const key of keys) if (table !== '' && !TABLE_OF_KEY.has(key)) TABLE_OF_KEY.set(key, table)
}

export function unknownKeyFix(table: string, key: string): string {
  const label = table === '' ? 'the top level' : `[${table}]`
  if (key === 'mappings' && table !== '') {
    return (
      `in TOML every key after a [${table}] header belongs to that table, so this is '${table}.mappings' and fledge would silently build without these files. ` +
      `Move it to its own [mappings] table, or above the first [table] header.`
    )
  }
  const siblings = KNOWN_KEYS.get(table) ?? []
  const near = closest(key, siblings)
  if (near) return `did you mean '${near}'? Known keys in ${label}: ${siblings.join(', ')}.`
  const home = TABLE_OF_KEY.get(key)
  if (home && home !== table) return `'${showKey([key])}' belongs in the [${home}] table.`
  if (table === '' && closest(key, ['mappings', 'mapping'])) return `did you mean '[mappings]'?`
  return `remove it; known keys in ${label}: ${siblings.join(', ')}.`
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 4))
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate)
    if (d <= bestDistance) {
      best = candidate
      bestDistance = d - 1
    }
  }
  return best
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] as number
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
      previous = saved
    }
  }
  return row[b.length] as number
}
