import { positionOf, type Table, type TomlDocument } from '../config/toml.js'
import { clip, showKey, showValue } from '../display.js'
import { FledgeError } from '../errors.js'

export type { Table }

/**
 * Typed access to a parsed TOML document that collects every problem (so
 * the author sees them all at once) instead of stopping at the first.
 * Keys are reported as dotted TOML paths (`resources.memory_mb`), at the
 * line:column where they (or their table) were written.
 */
export class TomlReader {
  readonly errors: FledgeError[] = []
  readonly file: string

  /** `topLevelKeys` lets an unknown key that belongs at the top be explained. */
  constructor(
    private readonly document: TomlDocument,
    private readonly topLevelKeys: readonly string[] = []
  ) {
    this.file = document.file
  }

  fail(key: string, message: string, fix: string): undefined {
    const at = positionOf(this.document.positions, key)
    this.errors.push(
      new FledgeError(message, { file: this.file, line: at?.line, column: at?.column, key, fix })
    )
    return undefined
  }

  /** Keys other than `allowed` are refused: fledge ignores them silently, and a typo then goes unnoticed. */
  onlyKeys(table: Table, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(table)) {
      if (allowed.includes(key)) continue
      const misplaced = prefix !== '' && this.topLevelKeys.includes(key)
      this.fail(
        join(prefix, key),
        'unknown key.',
        misplaced
          ? `${key} is a top-level key, but a key written after a [${prefix}] header belongs to that table: move it above the first [table] header.`
          : `use one of: ${allowed.join(', ')}.`
      )
    }
  }

  table(parent: Table, name: string, prefix: string): Table | undefined {
    const value = parent[name]
    if (value === undefined) return undefined
    if (isTable(value)) return value
    return this.fail(
      join(prefix, name),
      `must be a table, not ${typeName(value)}.`,
      `write it as [${join(prefix, name)}].`
    )
  }

  string(table: Table, name: string, prefix: string): string | undefined {
    const value = table[name]
    if (value === undefined || typeof value === 'string') return value
    const key = join(prefix, name)
    return this.fail(
      key,
      `must be a string, not ${typeName(value)}.`,
      quoteFix(name, value)
    )
  }

  requiredString(table: Table, name: string, prefix: string, fix: string): string | undefined {
    const value = this.string(table, name, prefix)
    if (value === undefined && table[name] === undefined) {
      return this.fail(join(prefix, name), 'is required.', fix)
    }
    if (value !== undefined && value.trim() === '') {
      return this.fail(join(prefix, name), 'must not be empty.', fix)
    }
    return value
  }

  integer(
    table: Table,
    name: string,
    prefix: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER
  ): number | undefined {
    const value = table[name]
    if (value === undefined) return undefined
    const key = join(prefix, name)
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.fail(
        key,
        `must be a whole number, not ${typeName(value)}.`,
        `write ${name} = ${min}.`
      )
    }
    if (value < min || value > max) {
      const range =
        max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`
      return this.fail(
        key,
        `must be ${range}, not ${value}.`,
        `write ${name} = <a number ${range}>.`
      )
    }
    return value
  }

  boolean(table: Table, name: string, prefix: string): boolean | undefined {
    const value = table[name]
    if (value === undefined || typeof value === 'boolean') return value
    return this.fail(
      join(prefix, name),
      `must be true or false, not ${typeName(value)}.`,
      `write ${name} = true.`
    )
  }

  oneOf<T extends string>(
    table: Table,
    name: string,
    prefix: string,
    allowed: readonly T[]
  ): T | undefined {
    const value = this.string(table, name, prefix)
    if (value === undefined || (allowed as readonly string[]).includes(value))
      return value as T | undefined
    const choices = allowed.map((choice) => `"${choice}"`).join(', ')
    return this.fail(
      join(prefix, name),
      `must be one of ${choices}, not ${showValue(value)}.`,
      `write ${name} = ${choices.split(', ')[0]}.`
    )
  }

  stringList(table: Table, name: string, prefix: string): string[] | undefined {
    const value = table[name]
    if (value === undefined) return undefined
    if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      return value as string[]
    return this.fail(
      join(prefix, name),
      'must be a list of strings.',
      `write ${name} = ["…", "…"].`
    )
  }

  stringMap(table: Table, name: string, prefix: string): Record<string, string> | undefined {
    const map = this.table(table, name, prefix)
    if (!map) return undefined
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') {
        this.fail(
          join(prefix, name, key),
          `must be a string, not ${typeName(value)}.`,
          quoteFix(key, value)
        )
      }
    }
    return map as Record<string, string>
  }

  tableList(table: Table, name: string, prefix: string): Table[] | undefined {
    const value = table[name]
    if (value === undefined) return undefined
    if (Array.isArray(value) && value.every(isTable)) return value
    return this.fail(
      join(prefix, name),
      'must be an array of tables.',
      `write each entry as [[${join(prefix, name)}]].`
    )
  }
}

export function isTable(value: unknown): value is Table {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  )
}

/** `prefix` is already shown as a key (`network.expose[0]`); the other parts are names from the file. */
function join(prefix: string, ...names: string[]): string {
  return [prefix, ...names.map((name) => showKey([name]))].filter((part) => part !== '').join('.')
}

/** A number or boolean can simply be quoted; a list or table must be rewritten. (TOML tables have no prototype: String() would throw.) */
function quoteFix(name: string, value: unknown): string {
  const scalar = typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value instanceof Date
  return scalar
    ? `quote it: ${showKey([name])} = ${showValue(value instanceof Date ? value.toISOString() : String(value))}.`
    : `write ${showKey([name])} = "…" (a string).`
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value instanceof Date) return 'a date'
  if (isTable(value)) return 'a table'
  if (typeof value === 'string') return `the string ${showValue(value)}`
  return clip(String(value))
}
