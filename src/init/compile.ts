import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { findVerified, makeTempDir, storeVerified, type CacheSlot } from '../sources/cache.js'
import type { ResolvedFile } from '../sources/types.js'

const run = promisify(execFile)
const TOOL = 'fledge-init'
const OUTPUT = 'init'

/**
 * Reproducible from any folder: the build folder is mapped to "." in debug
 * paths, and no build-id (a hash that would differ per linker run) is written.
 */
export const INIT_CFLAGS = [
  '-static',
  '-Os',
  '-s',
  '-Wall',
  '-Wextra',
  '-ffile-prefix-map=BUILD_DIR=.',
  '-Wl,--build-id=none'
]

export interface CompiledInit extends ResolvedFile {
  sourceSha256: string
  compiler: string
}

/** c/init.c, found from the source tree (src/init/) and from the bundles (dist/<face>/). */
export async function findInitSource(): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [
    process.env['FLEDGE_INIT_SOURCE'],
    path.resolve(here, '..', '..', 'c', 'init.c'),
    path.resolve(here, 'init.c')
  ].filter((c): c is string => !!c)
  for (const candidate of candidates) {
    if (await fs.stat(candidate).then((s) => s.isFile(), () => false)) return candidate
  }
  throw new Error(`internal: c/init.c not found (looked in ${candidates.join(', ')})`)
}

export async function compileInit(options: { log: Logger; useCache: boolean; cc?: string }): Promise<CompiledInit> {
  const cc = options.cc ?? process.env['CC'] ?? 'gcc'
  const source = await fs.readFile(await findInitSource())
  const sourceSha256 = createHash('sha256').update(source).digest('hex')
  const compiler = await compilerIdentity(cc)
  const key = createHash('sha256')
    .update(source)
    .update('\0')
    .update(INIT_CFLAGS.join(' '))
    .update('\0')
    .update(compiler.fingerprint)
    .digest('hex')
  // The recorded sha256 is the compiler's output when it was stored; a changed or
  // truncated entry is compiled again.
  const slot: CacheSlot = { tool: TOOL, key: `sha256-${key}`, file: OUTPUT, what: 'compiled init' }
  const identity = { sourceSha256, compiler: compiler.version }
  if (options.useCache) {
    const hit = await findVerified(slot, undefined, options.log)
    if (hit) return { ...hit, cacheHit: true, ...identity }
  }
  const dir = await makeTempDir('init')
  let keepDir = !options.useCache
  try {
    await fs.writeFile(path.join(dir, 'init.c'), source)
    const flags = INIT_CFLAGS.map((f) => f.replace('BUILD_DIR', dir))
    try {
      await run(cc, [...flags, '-o', OUTPUT, 'init.c'], { cwd: dir })
    } catch (error) {
      keepDir = false
      const stderr = String((error as { stderr?: string }).stderr ?? '')
      const staticLibc = /cannot find -lc\b/.test(stderr)
      throw new FledgeError(
        `compiling the C init failed${staticLibc ? ': the static C library is missing' : ''}.\n${stderr.trim()}`,
        {
          fix: staticLibc
            ? 'install the static C library (Debian/Ubuntu, as root: apt install libc6-dev; Fedora: glibc-static).'
            : 'check that gcc can build static binaries (Debian/Ubuntu, as root: apt install gcc libc6-dev).'
        }
      )
    }
    await fs.rm(path.join(dir, 'init.c'))
    const built = path.join(dir, OUTPUT)
    const bytes = await fs.readFile(built)
    const compiled = { path: built, size: bytes.length, sha256: sha256(bytes) }
    const used = options.useCache ? await storeVerified(built, slot, compiled.sha256, options.log) : compiled
    return { ...used, cacheHit: false, ...identity }
  } catch (error) {
    keepDir = false
    throw error
  } finally {
    if (!keepDir) await fs.rm(dir, { recursive: true, force: true })
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * The compiler version and the static libc it links in both shape the
 * output bytes, so both are part of the cache key.
 */
async function compilerIdentity(cc: string): Promise<{ version: string; fingerprint: string }> {
  let version: string
  try {
    version = (await run(cc, ['--version'])).stdout.split('\n')[0]?.trim() ?? cc
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FledgeError(`the C compiler "${cc}" was not found; it builds the image's /init.`, {
        fix: 'install gcc and the static C library (Debian/Ubuntu, as root: apt install gcc libc6-dev), or set CC.'
      })
    }
    throw error
  }
  const machine = (await run(cc, ['-dumpmachine'])).stdout.trim()
  const libcPath = (await run(cc, ['-print-file-name=libc.a'])).stdout.trim()
  const libc = await fs.readFile(libcPath).then(sha256, () => 'no-static-libc')
  return { version: `${version} (${machine})`, fingerprint: `${version}\n${machine}\n${libc}` }
}
