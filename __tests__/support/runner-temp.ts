import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/**
 * A fresh, empty folder to use as RUNNER_TEMP (in this process or a child's
 * environment). It lives in the test run's folder, so global-teardown.mjs fails the
 * run if anything is left in it.
 */
export function newRunnerTemp(label = 'temp'): string {
  const session = process.env['FLEDGE_TEST_RUNNER_TEMPS'] ?? os.tmpdir()
  return fs.mkdtempSync(path.join(session, `${label}-`))
}
