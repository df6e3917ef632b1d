// `node --import <this file> src/cli.ts …` runs the TypeScript sources as they are,
// for tests that need the real CLI in separate processes (dist/ is rebuilt only on release).
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
