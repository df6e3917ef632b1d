import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Entry } from '../../src/image/entry.js'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const cacheDir = path.join(repoRoot, '.cache/fixtures/elf')

export interface DownloadedFixtures {
  /** Debian's /usr/bin/caddy: dynamic, needs ld-linux-x86-64.so.2, libc.so.6, libzstd.so.1. */
  caddy: string
  /** A static aarch64 executable. */
  aarch64: string
}

function findDownloaded(): Partial<DownloadedFixtures> {
  const existing = (file: string): string | undefined => {
    const full = path.join(cacheDir, file)
    return fs.existsSync(full) ? full : undefined
  }
  const caddy = existing('caddy/usr/bin/caddy')
  const aarch64 = existing('busybox-arm64/bin/busybox') ?? existing('tiny-aarch64/exit0')
  return { ...(caddy && { caddy }), ...(aarch64 && { aarch64 }) }
}

/** The fixtures scripts/setup.sh fetched (scripts/fixtures-elf.sh); a test never fetches. */
export function ensureDownloadedFixtures(): DownloadedFixtures {
  const found = findDownloaded()
  if (!found.caddy || !found.aarch64) {
    throw new Error(`the ELF fixtures are missing from ${cacheDir}. Fix: run scripts/setup.sh`)
  }
  return { caddy: found.caddy, aarch64: found.aarch64 }
}

export interface CompiledFixtures {
  dir: string
  /** gcc -static: ET_EXEC, no interpreter. */
  staticExec: string
  /** gcc -static-pie: ET_DYN, no interpreter. */
  staticPie: string
  /** plain gcc: PIE with /lib64/ld-linux-x86-64.so.2 and libc.so.6. */
  dynamic: string
}

export function compileFixtures(): CompiledFixtures {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-elf-'))
  const source = path.join(repoRoot, '__tests__/fixtures/elf/hello.c')
  const compile = (name: string, flags: string[]): string => {
    const output = path.join(dir, name)
    execFileSync('gcc', [...flags, '-O1', '-o', output, source], { stdio: 'inherit' })
    return output
  }
  return {
    dir,
    staticExec: compile('hello-static', ['-static']),
    staticPie: compile('hello-static-pie', ['-static-pie']),
    dynamic: compile('hello-dynamic', [])
  }
}

/** The host's busybox-static, when installed (Debian puts it at /bin/busybox). */
/** Debian's busybox-static at /bin/busybox, as scripts/setup.sh installs it. */
export function hostBusybox(): string {
  if (!fs.existsSync('/bin/busybox')) {
    throw new Error('/bin/busybox is missing (Debian busybox-static). Fix: run scripts/setup.sh')
  }
  return '/bin/busybox'
}

/** Real file behind a host path such as /lib/x86_64-linux-gnu/libc.so.6. */
export function hostFile(file: string): string {
  return fs.realpathSync(file)
}

export function fileEntry(archivePath: string, sourcePath: string, mode = 0o755): Entry {
  return {
    path: archivePath,
    type: 'file',
    mode,
    uid: 0,
    gid: 0,
    source: { kind: 'path', path: sourcePath, size: fs.statSync(sourcePath).size },
    origin: `mapping ${path.basename(sourcePath)}`
  }
}

export function bytesEntry(archivePath: string, data: Uint8Array | string, mode = 0o755): Entry {
  return {
    path: archivePath,
    type: 'file',
    mode,
    uid: 0,
    gid: 0,
    source: { kind: 'bytes', data: typeof data === 'string' ? Buffer.from(data) : data },
    origin: 'test bytes'
  }
}

export function symlinkEntry(archivePath: string, target: string): Entry {
  return { path: archivePath, type: 'symlink', mode: 0o777, uid: 0, gid: 0, target, origin: 'test' }
}

export function dirEntry(archivePath: string): Entry {
  return { path: archivePath, type: 'dir', mode: 0o755, uid: 0, gid: 0, origin: 'test' }
}
