/**
 * Every failure a user can cause is a FledgeError: one line that names where
 * (file, line:column, key), what is wrong, and how to fix it.
 */
export interface ErrorLocation {
  file?: string | undefined
  line?: number | undefined
  column?: number | undefined
  key?: string | undefined
}

export class FledgeError extends Error {
  readonly location: ErrorLocation
  readonly fix: string | undefined

  constructor(message: string, options: ErrorLocation & { fix?: string | undefined } = {}) {
    super(message)
    this.name = 'FledgeError'
    const { fix, ...location } = options
    this.location = location
    this.fix = fix
  }

  /** `fledge.toml:12:1: [init] mappings: unknown key. Fix: move it …` */
  format(): string {
    const { file, line, column, key } = this.location
    let where = file ?? ''
    if (file && line !== undefined) where += `:${line}${column !== undefined ? `:${column}` : ''}`
    const parts: string[] = []
    if (where) parts.push(`${where}:`)
    if (key) parts.push(`${key}:`)
    parts.push(this.message)
    let text = parts.join(' ')
    if (this.fix) text += ` Fix: ${this.fix}`
    return text
  }
}

/** Several independent problems found in one pass (validation reports them all). */
export class FledgeErrors extends FledgeError {
  readonly errors: FledgeError[]
  constructor(errors: FledgeError[]) {
    super(errors.map((e) => e.format()).join('\n'))
    this.name = 'FledgeErrors'
    this.errors = errors
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n')
  }
}

export function formatError(error: unknown): string {
  if (error instanceof FledgeError) return error.format()
  if (error instanceof Error) return error.message
  return String(error)
}
