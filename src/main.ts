import { main } from './action/main.js'
import { cleanUpOnExitAndSignals, cleanUpProcess } from './cleanup.js'

/**
 * Runs the Action once. Importing this module does nothing, so a runner such as
 * @github/local-action can load it and call run() itself; src/index.ts (the bundle's
 * entry) is what calls it on GitHub's runner.
 */
export async function run(): Promise<void> {
  cleanUpOnExitAndSignals()
  await main()
  await cleanUpProcess()
}
