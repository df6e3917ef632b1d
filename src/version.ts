import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * This tool's version, from package.json beside src/ or dist/ (both faces
 * run from a checkout of the action). Recorded in build records.
 */
export function toolVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  for (const candidate of [path.resolve(here, '..', 'package.json'), path.resolve(here, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'fledge-action' && pkg.version) return pkg.version
    } catch {
      // not this one
    }
  }
  return 'unknown'
}
