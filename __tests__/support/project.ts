import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** A throwaway plugin project: files written relative to a fresh temp folder. */
export function makeProject(files: Record<string, string | Buffer | { data: string; mode: number }>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-project-'))
  writeFiles(dir, files)
  return dir
}

export function writeFiles(dir: string, files: Record<string, string | Buffer | { data: string; mode: number }>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    if (typeof content === 'object' && !Buffer.isBuffer(content)) {
      fs.writeFileSync(file, content.data)
      fs.chmodSync(file, content.mode)
    } else {
      fs.writeFileSync(file, content)
    }
  }
}

/** Debian's busybox-static: a real static busybox (installed by .ci/run). */
export const HOST_BUSYBOX = '/bin/busybox'

/** A minimal valid config whose sources are all local (no network). */
export function offlineConfig(extra = ''): string {
  return `version = "1"
strategy = "initramfs"

[agent]
source_strategy = "local"
path = "agent.sh"

[source]
busybox_url = "file://${HOST_BUSYBOX}"
${extra}`
}

export const STAND_IN_AGENT = { data: '#!/bin/sh\necho "agent: started"\n/bin/busybox poweroff -f\n', mode: 0o755 }
