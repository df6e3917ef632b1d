import { main } from '../../src/cli/main.js'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in this process, capturing what it prints. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const saved = { out: process.stdout.write, err: process.stderr.write }
  const savedEnv: Record<string, string | undefined> = {}
  let stdout = ''
  let stderr = ''
  process.stdout.write = ((chunk: unknown) => ((stdout += String(chunk)), true)) as typeof process.stdout.write
  process.stderr.write = ((chunk: unknown) => ((stderr += String(chunk)), true)) as typeof process.stderr.write
  for (const [key, value] of Object.entries(env)) {
    savedEnv[key] = process.env[key]
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  try {
    const code = await main(args)
    return { code, stdout, stderr }
  } finally {
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}
