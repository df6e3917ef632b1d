#!/usr/bin/env node
import { cleanUpOnExitAndSignals } from './cleanup.js'
import { main } from './cli/main.js'

cleanUpOnExitAndSignals()

process.exitCode = await main(process.argv.slice(2))
