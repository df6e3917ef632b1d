import { main } from './action/main.js'
import { cleanUpOnExitAndSignals, cleanUpProcess } from './cleanup.js'

cleanUpOnExitAndSignals()
await main()
await cleanUpProcess()
