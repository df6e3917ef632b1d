/**
 * @actions/core (used by @actions/tool-cache) writes `::debug::` workflow
 * commands to stdout. In a terminal they are noise, and they would corrupt
 * `inspect --json`; outside GitHub Actions, drop them (or show them on
 * stderr with --verbose / RUNNER_DEBUG=1).
 */
export function quietWorkflowCommands(verbose: () => boolean): void {
  if (process.env['GITHUB_ACTIONS'] === 'true') return
  const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('::debug::')) {
      if (verbose() || process.env['RUNNER_DEBUG'] === '1') process.stderr.write(`debug: ${chunk.slice(9)}`)
      return true
    }
    return write(chunk, ...rest)
  }) as typeof process.stdout.write
}
