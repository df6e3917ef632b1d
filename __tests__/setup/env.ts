// Set before any module under test is imported: @actions/tool-cache asserts
// these, @actions/github reads GITHUB_REPOSITORY, and the globals make
// tool-cache's retry sleeps instant.
import { createRequire, syncBuiltinESMExports } from 'node:module'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { newRunnerTemp } from '../support/runner-temp.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-jest-'))
process.env['RUNNER_TOOL_CACHE'] ??= path.join(root, 'tool-cache')
process.env['RUNNER_TEMP'] ??= newRunnerTemp('jest')
process.env['GITHUB_REPOSITORY'] ??= 'volantvm/example-plugin'
fs.mkdirSync(process.env['RUNNER_TOOL_CACHE'], { recursive: true })
fs.mkdirSync(process.env['RUNNER_TEMP'], { recursive: true })
const g = globalThis as Record<string, unknown>
g['TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS'] = 0
g['TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS'] = 0

// Tests talk to loopback servers only. A test that forgets to point a URL at one (an agent
// lookup left on api.github.com, say) fails here at name resolution instead of sending
// traffic off this machine.
const loopbackName = (host: string): boolean =>
  host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1'
const dnsModule = createRequire(import.meta.url)('node:dns') as {
  lookup: (...args: unknown[]) => unknown
}
const realLookup = dnsModule.lookup
dnsModule.lookup = (...args: unknown[]) => {
  const host = String(args[0])
  const callback = args[args.length - 1]
  if (!loopbackName(host) && typeof callback === 'function') {
    const error = Object.assign(
      new Error(`test network guard: ${host} is not a loopback address`),
      { code: 'ENOTFOUND' }
    )
    process.nextTick(() => (callback as (e: Error) => void)(error))
    return {}
  }
  return realLookup(...args)
}
syncBuiltinESMExports()
