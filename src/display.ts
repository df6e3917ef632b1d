/**
 * How user-controlled text (paths, names, TOML keys and values) is shown in
 * messages and listings: one line, no terminal control characters, bytes
 * that are not UTF-8 visible as \xNN, and never longer than a screen or so.
 */

/** Longest echo of a user value in a message. */
export const MAX_SHOWN = 200

/** Cuts `text` to `max` characters, saying how long it was: `abc… (52428800 bytes)`. */
export function clip(text: string, max = MAX_SHOWN): string {
  if (text.length <= max) return text
  let cut = text.slice(0, max)
  // never split a surrogate pair
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return `${cut}… (${Buffer.byteLength(text)} bytes)`
}

/**
 * Control characters as escapes (\n, \t, \x1b, \u2028), lone surrogates
 * from `decodeBytes` as the byte they stand for (\xe9), everything else as is.
 */
export function escapeControls(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => {
      const code = c.charCodeAt(0)
      if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16).padStart(2, '0')}`
      switch (c) {
        case '\n':
          return '\\n'
        case '\r':
          return '\\r'
        case '\t':
          return '\\t'
      }
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
    }
  )
}

/**
 * Bytes (a file name from the disk or an archive) as a string: valid UTF-8
 * decoded, every byte that is not part of valid UTF-8 kept as a lone
 * surrogate U+DC80–U+DCFF (Python's "surrogateescape"), so the name stays
 * distinct and `escapeControls` shows it as \xNN.
 */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    // fall through to the byte-by-byte decoder
  }
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i)
    if (length > 0) {
      out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8')
      i += length
    } else {
      out += String.fromCharCode(0xdc00 + (bytes[i] as number))
      i += 1
    }
  }
  return out
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number
  if (b0 < 0x80) return 1
  const continuation = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i + k]
    return b !== undefined && b >= lo && b <= hi
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) return continuation(1) ? 2 : 0
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80
    const hi = b0 === 0xed ? 0x9f : 0xbf
    return continuation(1, lo, hi) && continuation(2) ? 3 : 0
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80
    const hi = b0 === 0xf4 ? 0x8f : 0xbf
    return continuation(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0
  }
  return 0
}

/** A path for a message: bytes decoded as above, controls escaped, clipped. */
export function showPath(file: string | Uint8Array): string {
  const text = typeof file === 'string' ? file : decodeBytes(file)
  return clip(escapeControls(text), 300)
}

/** A user value for a message: strings quoted, anything clipped. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return clip(escapeControls(JSON.stringify(value)))
  if (typeof value === 'bigint') return `${value}`
  if (value instanceof Date) return value.toISOString()
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    json = undefined
  }
  return clip(escapeControls(json ?? String(value)))
}

/**
 * A TOML key path as it would be written in TOML: bare parts as they are,
 * others quoted (`mappings."payload/app"`, `"__proto__"` stays `__proto__`).
 */
export function showKey(parts: readonly string[]): string {
  return parts
    .map((part) => (/^[A-Za-z0-9_-]+$/.test(part) ? part : clip(escapeControls(JSON.stringify(part)), 80)))
    .join('.')
}
