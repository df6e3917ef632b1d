import type { Node } from 'jsonc-parser'

/** A splice of the original text: replace `length` characters at `offset` by `content`. */
export interface TextEdit {
  offset: number
  length: number
  content: string
}

/** Only strings and flat objects of strings are ever written into a manifest here. */
export type InsertValue = string | Readonly<Record<string, string>>

/**
 * Edits are computed against the original text and applied back to front so
 * offsets stay valid. Two insertions at the same offset keep the order in
 * which they were listed.
 */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const ordered = edits
    .map((edit, index) => ({ edit, index }))
    .sort((a, b) => b.edit.offset - a.edit.offset || b.index - a.index)
  let result = text
  for (const { edit } of ordered) {
    result = result.slice(0, edit.offset) + edit.content + result.slice(edit.offset + edit.length)
  }
  return result
}

export function replaceValue(value: Node, content: unknown): TextEdit {
  return { offset: value.offset, length: value.length, content: JSON.stringify(content) }
}

/**
 * Insert properties into `object` after the last present key of `after`
 * (or after the last property), copying the neighbours' layout: their
 * indentation, their `key: value` separator, the line ending in use, and
 * single-line objects stay on one line.
 */
export function insertProperties(
  text: string,
  object: Node,
  entries: readonly (readonly [string, InsertValue])[],
  after: readonly string[] = []
): TextEdit {
  const properties = object.children ?? []
  const layout = detectLayout(text, object)
  const last = properties.at(-1)
  if (!last) return fillEmptyObject(text, object, entries, layout)
  const anchor =
    properties.filter((property) => after.includes(String(property.children?.[0]?.value))).at(-1) ??
    last
  const separator = layout.multiline ? layout.eol + layout.indent : layout.gap
  const content = entries
    .map(([k, v]) => `,${separator}${render(k, v, layout.indent, layout)}`)
    .join('')
  return { offset: anchor.offset + anchor.length, length: 0, content }
}

/** `{}` has no neighbours to copy: one step deeper than its own line, or all on one line. */
function fillEmptyObject(
  text: string,
  object: Node,
  entries: readonly (readonly [string, InsertValue])[],
  layout: Layout
): TextEdit {
  const outer = lineIndent(text, object.offset)
  const inner = outer + layout.unit
  const body = layout.multiline
    ? entries.map(([k, v]) => layout.eol + inner + render(k, v, inner, layout)).join(',') +
      layout.eol +
      outer
    : entries.map(([k, v]) => render(k, v, outer, layout)).join(`,${layout.gap}`)
  return { offset: object.offset, length: object.length, content: `{${body}}` }
}

interface Layout {
  multiline: boolean
  /** indentation of this object's properties */
  indent: string
  /** one indentation step of the file */
  unit: string
  colon: string
  /** what follows a comma between properties on one line */
  gap: string
  eol: string
}

function detectLayout(text: string, object: Node): Layout {
  const properties = object.children ?? []
  const ownLine = properties.map((property) => linePrefix(text, property.offset)).filter(isBlank)
  const root = rootOf(object)
  return {
    multiline: properties.length > 0 ? ownLine.length > 0 : spansLines(text, root),
    indent: ownLine.at(-1) ?? '',
    unit: indentUnit(text, root),
    colon: colonOf(text, properties[0]) ?? colonOf(text, firstProperty(root)) ?? ': ',
    gap: gapOf(text, properties) ?? ' ',
    eol: lineEnding(text, object.offset)
  }
}

function render(key: string, value: InsertValue, indent: string, layout: Layout): string {
  const head = JSON.stringify(key) + layout.colon
  if (typeof value === 'string') return head + JSON.stringify(value)
  const inner = Object.entries(value).map(
    ([k, v]) => JSON.stringify(k) + layout.colon + JSON.stringify(v)
  )
  if (!layout.multiline) return `${head}{${inner.join(`,${layout.gap}`)}}`
  const nested = indent + layout.unit
  return `${head}{${inner.map((line) => layout.eol + nested + line).join(',')}${layout.eol}${indent}}`
}

/** Text between the start of the line and `offset`. */
function linePrefix(text: string, offset: number): string {
  return text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset)
}

function lineIndent(text: string, offset: number): string {
  return /^[ \t]*/.exec(linePrefix(text, offset))?.[0] ?? ''
}

function isBlank(prefix: string): boolean {
  return /^[ \t]*$/.test(prefix)
}

function rootOf(node: Node): Node {
  let current = node
  while (current.parent) current = current.parent
  return current
}

function firstProperty(root: Node): Node | undefined {
  return root.type === 'object' ? root.children?.[0] : undefined
}

function spansLines(text: string, node: Node): boolean {
  return text.slice(node.offset, node.offset + node.length).includes('\n')
}

/** The step between the root's indentation and its properties' (tabs, 2, 4 … spaces). */
function indentUnit(text: string, root: Node): string {
  const base = lineIndent(text, root.offset)
  for (const property of root.children ?? []) {
    const prefix = linePrefix(text, property.offset)
    if (isBlank(prefix) && prefix.length > base.length && prefix.startsWith(base)) {
      return prefix.slice(base.length)
    }
  }
  return /^([ \t]+)"/m.exec(text)?.[1] ?? '  '
}

function colonOf(text: string, property: Node | undefined): string | undefined {
  const [key, value] = property?.children ?? []
  if (!key || !value) return undefined
  return text.slice(key.offset + key.length, value.offset)
}

/** The whitespace after the comma between the first two properties, when they share a line. */
function gapOf(text: string, properties: readonly Node[]): string | undefined {
  const [first, second] = properties
  if (!first || !second) return undefined
  const between = text.slice(first.offset + first.length, second.offset)
  const gap = between.slice(between.indexOf(',') + 1)
  return between.includes('\n') ? undefined : gap
}

/** The line ending next to `offset` (so a file that mixes them stays locally consistent). */
function lineEnding(text: string, offset: number): string {
  let newline = text.indexOf('\n', offset)
  if (newline < 0) newline = text.lastIndexOf('\n', offset)
  if (newline < 0) return '\n'
  return text[newline - 1] === '\r' ? '\r\n' : '\n'
}
