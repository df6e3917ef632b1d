import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

/**
 * `go build -o output .` in `dir` with the machine's Go, offline (no module proxy, no toolchain
 * download, no cgo). A missing Go or a failed build throws with the set-up hint.
 */
export function goBuild(dir: string, output: string, what: string): void {
  const build = spawnSync('go', ['build', '-o', output, '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GOFLAGS: '-mod=mod',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
      // Go's own build cache when it has one; a throwaway one beside the output when there is no HOME.
      ...(process.env['GOCACHE'] === undefined && process.env['HOME'] === undefined
        ? { GOCACHE: path.join(path.dirname(output), 'go-cache') }
        : {})
    }
  })
  if (build.error || build.status !== 0) {
    throw new Error(`go build of ${what} failed: ${build.error?.message ?? build.stderr}. Fix: run scripts/setup.sh`)
  }
}
