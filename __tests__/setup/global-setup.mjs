// One folder per test run that holds every RUNNER_TEMP the tests use (in-process
// builds and CLI/Action subprocesses alike); global-teardown.mjs checks they end empty.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export default function globalSetup() {
  process.env['FLEDGE_TEST_RUNNER_TEMPS'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-runner-temps-'))
}
