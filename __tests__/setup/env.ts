// Set before any module under test is imported: @actions/tool-cache asserts
// these, @actions/github reads GITHUB_REPOSITORY, and the globals make
// tool-cache's retry sleeps instant.
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
