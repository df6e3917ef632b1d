import { parse, TomlError } from 'smol-toml'
import { FledgeError } from '../errors.js'
import { MiB, readRegularFile, type FileErrorOptions } from '../user-files.js'
import { locateKeys, type KeyPosition } from './locate.js'

/**
 * The one TOML-with-positions reader, for fledge.toml and manifest.toml:
 * a bounded read of a regular file, UTF-8 checked, parsed by smol-toml
 * (whose tables have no prototype, so `__proto__` is just a key), and every
 * key's line:column from the shared locator.
 */

export type Table = Record<string, unknown>

export interface TomlDocument {
  file: string
  table: Table
  /** Dotted key path (also in its quoted form, see showKey) → where it was written. */
  positions: Map<string, KeyPosition>
}

/** fledge.toml and manifest.toml are a few hundred bytes; this is generous. */
export const MAX_TOML_BYTES = MiB

export interface TomlFileOptions {
  /** "config file", "manifest template" */
  what: string
  /** Per errno code, fixes and messages that know the context. */
  fixes?: FileErrorOptions['fixes']
  messages?: FileErrorOptions['messages']
  /** The fix for a syntax error. */
  syntaxFix: string
}

export function readTomlFile(file: string, options: TomlFileOptions): TomlDocument {
  const bytes = readRegularFile(file, {
    what: options.what,
    ...(options.fixes ? { fixes: options.fixes } : {}),
    ...(options.messages ? { messages: options.messages } : {}),
    maxBytes: MAX_TOML_BYTES,
    sizeHint: `a ${options.what} is a few kilobytes at most: check that the path names the right file.`
  })
  return parseTomlBytes(bytes, file, options.syntaxFix)
}

export function parseTomlBytes(bytes: Uint8Array | string, file: string, syntaxFix: string): TomlDocument {
  const text = (typeof bytes === 'string' ? bytes : decodeUtf8(bytes, file)).replace(/^\uFEFF/, '')
  let table: Table
  try {
    table = parse(text) as Table
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    const cause = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML'
    throw new FledgeError(`invalid TOML: ${cause}.`, {
      file,
      line: error.line,
      column: error.column,
      fix: syntaxFix
    })
  }
  return { file, table, positions: locateKeys(text) }
}

/** Where `key` (or, failing that, its nearest parent) was written. */
export function positionOf(positions: Map<string, KeyPosition>, key: string): KeyPosition | undefined {
  let probe = key
  for (;;) {
    const at = positions.get(probe)
    if (at) return at
    const cut = Math.max(probe.lastIndexOf('.'), probe.lastIndexOf('['))
    if (cut <= 0) return undefined
    probe = probe.slice(0, cut)
  }
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    const offset = firstInvalidUtf8(bytes)
    const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1
    throw new FledgeError('the file is not valid UTF-8.', {
      file,
      line,
      fix: 'save it as UTF-8 (TOML requires it).'
    })
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let lo = 0
  let hi = bytes.length
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    try {
      decoder.decode(bytes.subarray(0, mid), { stream: true })
      lo = mid
    } catch {
      hi = mid - 1
    }
  }
  return lo
}
