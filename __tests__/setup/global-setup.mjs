// One folder per test run that holds every RUNNER_TEMP the tests use (in-process
// builds and CLI/Action subprocesses alike); global-teardown.mjs checks they end empty.
// And one scratch folder that is the run's TMPDIR: the workers and every process they
// start inherit it, so the fixtures tests make in os.tmpdir() go when the run ends.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export default function globalSetup() {
  process.env['FLEDGE_TEST_RUNNER_TEMPS'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-runner-temps-'))
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-test-tmp-'))
  // Like /tmp: the tests that run the CLI as nobody make their temp files here too.
  fs.chmodSync(scratch, 0o1777)
  process.env['FLEDGE_TEST_TMP'] = scratch
  process.env['TMPDIR'] = scratch
}
