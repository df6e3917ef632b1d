import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser'
import { FledgeError } from '../errors.js'

/**
 * Strict JSON (volantd reads it with Go's encoding/json: no comments, no
 * trailing commas) parsed into a tree that keeps every value's byte offset,
 * so edits can touch only the bytes they mean to change.
 */
export function parseJsonTree(text: string, file: string): Node {
  const errors: ParseError[] = []
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false })
  const first = errors[0]
  if (first) {
    throw new FledgeError(`invalid JSON: ${describeParseError(text, first)}.`, {
      file,
      ...lineColumn(text, first.offset),
      fix: 'correct the JSON at that position (strict JSON: no comments, no trailing commas).'
    })
  }
  if (!root)
    throw new FledgeError('the file is empty.', { file, fix: 'write the manifest JSON object.' })
  return root
}

const PARSE_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape sequence',
  InvalidCharacter: 'control character in a string (escape it, e.g. \\t)'
}

function describeParseError(text: string, error: ParseError): string {
  const code = printParseErrorCode(error.error)
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    if (/,\s*$/.test(text.slice(0, error.offset)) && /^[}\]]/.test(text.slice(error.offset))) {
      return 'trailing comma before the closing bracket'
    }
  }
  return PARSE_ERROR_TEXT[code] ?? code
}

/** 1-based line and column of a character offset (columns count UTF-16 units, as editors do). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  return { line: before.split('\n').length, column: offset - lineStart + 1 }
}

/** The property node of `key` in an object node; a key given twice is an error (Go keeps the last). */
export function findProperty(
  object: Node,
  key: string,
  text: string,
  file: string
): Node | undefined {
  const matches = (object.children ?? []).filter(
    (property) => property.children?.[0]?.value === key
  )
  const second = matches[1]
  if (second) {
    throw new FledgeError(`"${key}" appears more than once; volantd would use the last one.`, {
      file,
      ...lineColumn(text, second.offset),
      key,
      fix: `keep a single "${key}".`
    })
  }
  return matches[0]
}

export function propertyValue(property: Node): Node {
  const value = property.children?.[1]
  if (!value) throw new Error('jsonc-parser returned a property without a value')
  return value
}
