/** The engine reports through this; the CLI prints to stderr, the Action uses @actions/core. */
export interface Logger {
  info(message: string): void
  warn(message: string, where?: { file?: string; line?: number }): void
  debug(message: string): void
}

export const silentLogger: Logger = { info() {}, warn() {}, debug() {} }

export function stderrLogger(verbose = false): Logger {
  return {
    info: (m) => process.stderr.write(`${m}\n`),
    warn: (m, where) =>
      process.stderr.write(
        `warning: ${where?.file ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : ''}${m}\n`
      ),
    debug: (m) => {
      if (verbose) process.stderr.write(`debug: ${m}\n`)
    }
  }
}
