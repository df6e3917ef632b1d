// Jest runs many test files in one process, so "when the process exits" comes at the
// end of each file: what tests registered outside any build (sources and the init
// resolved directly) is removed here, as the faces' exit handler removes it.
// Anything never registered is still left, and global-teardown.mjs reports it.
import { afterAll } from '@jest/globals'
import { cleanUpProcess } from '../../src/cleanup.js'

afterAll(() => cleanUpProcess())
