import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { main } from '../../src/action/main.js'

export interface InProcessActionRun {
  exitCode: number
  outputs: Record<string, string>
  summary: string
  /** Workflow commands and log lines (`::error file=…::…`). */
  stdout: string
}

/**
 * Runs the Action's entry (src/action/main.ts) in this process, from source,
 * as the runner would: INPUT_* and GITHUB_* variables in, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY and workflow commands out. Everything is restored after.
 */
export async function runActionInProcess(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): Promise<InProcessActionRun> {
  const runner = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-runner-'))
  const outputFile = path.join(runner, 'output')
  const summaryFile = path.join(runner, 'summary')
  const eventFile = path.join(runner, 'event.json')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  fs.writeFileSync(eventFile, JSON.stringify({ number: 7, pull_request: { number: 7 } }))
  const vars: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REPOSITORY: 'volantvm/test-plugin',
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: path.join(runner, 'temp'),
    INPUT_TOKEN: 'test-token',
    INPUT_PUBLISH: 'false',
    ...env
  }
  for (const [name, value] of Object.entries(inputs)) vars[`INPUT_${name.toUpperCase()}`] = value
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]))
  const savedWrite = process.stdout.write
  const savedExitCode = process.exitCode
  const savedCwd = process.cwd()
  let stdout = ''
  process.stdout.write = ((chunk: unknown) => ((stdout += String(chunk)), true)) as typeof process.stdout.write
  Object.assign(process.env, vars)
  process.exitCode = 0
  process.chdir(workspace)
  let exitCode: number
  try {
    await main()
    exitCode = Number(process.exitCode ?? 0)
  } finally {
    process.chdir(savedCwd)
    process.stdout.write = savedWrite
    process.exitCode = savedExitCode
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  return { exitCode, outputs: parseOutputs(fs.readFileSync(outputFile, 'utf8')), summary: fs.readFileSync(summaryFile, 'utf8'), stdout }
}

/** GITHUB_OUTPUT's heredoc format: name<<delimiter\nvalue\ndelimiter */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  for (const m of text.matchAll(/^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1] as string] = m[3] as string
  return outputs
}

/** A manifest template for examples/offline (its stand-in agent at /bin/kestrel as the workload). */
export const OFFLINE_MANIFEST_TOML = `schema_version = "1.0"
name = "offline"
version = "0.1.0"
runtime = "offline"

[resources]
cpu_cores = 1
memory_mb = 256

[workload]
type = "http"
entrypoint = "/bin/kestrel"
base_url = "http://127.0.0.1:8000"

[health_check]
endpoint = "/"
timeout_ms = 10000
`
