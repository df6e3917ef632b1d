// After the whole run: every RUNNER_TEMP under the run's folder must be empty. A
// build, a signal or a failure that leaves temp files or folders behind fails the run.
import * as fs from 'node:fs'
import * as path from 'node:path'

export default function globalTeardown() {
  try {
    checkRunnerTemps()
  } finally {
    const scratch = process.env['FLEDGE_TEST_TMP']
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  }
}

function checkRunnerTemps() {
  const session = process.env['FLEDGE_TEST_RUNNER_TEMPS']
  if (!session) throw new Error('FLEDGE_TEST_RUNNER_TEMPS is not set: global-setup.mjs did not run')
  const runnerTemps = fs.readdirSync(session)
  if (runnerTemps.length === 0) {
    throw new Error(`no test made a RUNNER_TEMP under ${session}: the leftover check checked nothing`)
  }
  const leftovers = runnerTemps.flatMap((name) =>
    fs.readdirSync(path.join(session, name)).map((entry) => path.join(session, name, entry))
  )
  if (leftovers.length > 0) {
    throw new Error(
      `${leftovers.length} leftover${leftovers.length === 1 ? '' : 's'} in RUNNER_TEMP after the tests (kept for a look):\n  ${leftovers.join('\n  ')}`
    )
  }
  fs.rmSync(session, { recursive: true, force: true })
}
