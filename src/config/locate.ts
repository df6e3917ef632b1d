import { showKey } from '../display.js'

/**
 * smol-toml gives positions for syntax errors but not for keys. This scanner
 * finds where each key path is defined (`init.mappings` → line 12, column 1)
 * so validation errors can point at the line the author has to change.
 * It only needs to be right for well-formed TOML (the parser ran first).
 */
export interface KeyPosition {
  line: number
  column: number
}

export function locateKeys(source: string): Map<string, KeyPosition> {
  const positions = new Map<string, KeyPosition>()
  const lines = source.split(/\r?\n/)
  let table: string[] = []
  /** `[[network.expose]]` seen so far, per table path: entries are `network.expose[0]`, … */
  const arrayCounts = new Map<string, number>()
  let depth = 0 // open [ or { of a multi-line value
  let inMultiline: '"""' | "'''" | undefined

  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? ''
    const line = index === 0 ? raw.replace(/^\uFEFF/, '') : raw
    if (inMultiline) {
      if (line.includes(inMultiline)) inMultiline = undefined
      continue
    }
    if (depth > 0) {
      depth += bracketBalance(line)
      continue
    }
    const indent = line.length - line.trimStart().length
    const text = line.trimStart()
    if (text === '' || text.startsWith('#')) continue

    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(text)
    if (header?.[1]) {
      table = splitKey(header[1])
      remember(positions, table, index + 1, indent + 1)
      if (text.startsWith('[[')) {
        const name = table.join('.')
        const count = arrayCounts.get(name) ?? 0
        arrayCounts.set(name, count + 1)
        table = [...table.slice(0, -1), `${table[table.length - 1] ?? ''}[${count}]`]
        remember(positions, table, index + 1, indent + 1)
      }
      continue
    }
    const eq = findAssignment(text)
    if (eq < 0) continue
    const keyParts = splitKey(text.slice(0, eq).trim())
    for (let i = 1; i <= keyParts.length; i++) {
      remember(positions, [...table, ...keyParts.slice(0, i)], index + 1, indent + 1)
    }
    const value = text.slice(eq + 1)
    const triple = /("""|''')/.exec(value)
    if (triple?.[1] && value.indexOf(triple[1], (triple.index ?? 0) + 3) < 0) {
      inMultiline = triple[1] as '"""' | "'''"
      continue
    }
    depth = Math.max(0, bracketBalance(value))
  }
  return positions
}

/** Under the plain dotted path (`mappings.payload/a.b`) and as messages show it (`mappings."payload/a.b"`). */
function remember(map: Map<string, KeyPosition>, parts: string[], line: number, column: number) {
  for (const key of [parts.join('.'), shownKey(parts)]) {
    if (!map.has(key)) map.set(key, { line, column })
  }
}

/** `['network', 'expose[0]', 'a.b']` → `network.expose[0]."a.b"` */
export function shownKey(parts: readonly string[]): string {
  return parts
    .map((part) => {
      const indexed = /^(.*)(\[\d+\])$/.exec(part)
      return indexed ? `${showKey([indexed[1] ?? ''])}${indexed[2] ?? ''}` : showKey([part])
    })
    .join('.')
}

/**
 * Calls `visit` with each character outside TOML strings and its index;
 * stops when `visit` returns true. Returns that index, or -1.
 */
function scanOutsideStrings(text: string, visit: (c: string, i: number) => boolean | void): number {
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (visit(c, i)) return i
  }
  return -1
}

/** Index of the `=` that ends the key, skipping quoted key parts. */
function findAssignment(text: string): number {
  return scanOutsideStrings(text, (c) => c === '=')
}

/** `a."b.c".d` → ['a', 'b.c', 'd'] */
export function splitKey(key: string): string[] {
  const parts: string[] = []
  let current = ''
  let quote: string | undefined
  for (let i = 0; i < key.length; i++) {
    const c = key[i] as string
    if (quote) {
      if (c === '\\' && quote === '"' && i + 1 < key.length) {
        const [text, length] = unescape(key, i)
        current += text
        i += length - 1
      } else if (c === quote) quote = undefined
      else current += c
    } else if (c === '"' || c === "'") quote = c
    else if (c === '.') {
      parts.push(current.trim())
      current = ''
    } else current += c
  }
  parts.push(current.trim())
  return parts
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\u001b', '"': '"', '\\': '\\' }

/** The basic-string escape at `key[i]` (a backslash): its text and its length in the source. */
function unescape(key: string, i: number): [string, number] {
  const c = key[i + 1] as string
  const hexLength = c === 'u' ? 4 : c === 'U' ? 8 : c === 'x' ? 2 : 0
  if (hexLength > 0) {
    const code = Number.parseInt(key.slice(i + 2, i + 2 + hexLength), 16)
    if (Number.isInteger(code) && code <= 0x10ffff) return [String.fromCodePoint(code), 2 + hexLength]
  }
  return [Object.hasOwn(ESCAPES, c) ? (ESCAPES[c] as string) : c, 2]
}

/** Net count of opening minus closing brackets outside strings and comments. */
function bracketBalance(text: string): number {
  let balance = 0
  scanOutsideStrings(text, (c) => {
    if (c === '#') return true
    if (c === '[' || c === '{') balance++
    else if (c === ']' || c === '}') balance--
    return false
  })
  return balance
}
