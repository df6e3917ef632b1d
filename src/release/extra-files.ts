/**
 * The `files` input: more files to attach to the release, as softprops'
 * `files` and ncipollo's `artifacts` do. Matched before the build, so a typo
 * fails the job before anything is written; hashed into SHA256SUMS and the
 * notes like the image itself.
 */
import * as glob from '@actions/glob'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { showPath, showValue } from '../display.js'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { isPlainAssetName } from '../publish/assets.js'

export interface ExtraFilesRequest {
  /** One glob per line, relative to `baseDir`; `!glob` excludes; blank lines and `#` comments are ignored. */
  patterns: string
  /** true: a glob that matches nothing fails the build; false: a warning. */
  failOnUnmatched: boolean
}

export interface ExtraFile {
  path: string
  name: string
  contentType: string
}

/**
 * The files the globs match, sorted by asset name. A file the build writes
 * itself (`ownOutputs`, e.g. a stale plugin.cpio.gz matched by `out/*`) is
 * left to the build; another file with the name of one is refused.
 */
export async function matchExtraFiles(
  request: ExtraFilesRequest,
  baseDir: string,
  ownOutputs: readonly string[],
  log: Logger
): Promise<ExtraFile[]> {
  const lines = request.patterns
    .split(/\r?\n/)
    .map((line, index) => ({ text: line.trim(), line: index + 1 }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'))
  const excluded = lines.filter(({ text }) => text.startsWith('!')).map(({ text }) => `!${anchored(baseDir, text.slice(1).trim())}`)
  const own = new Map(ownOutputs.map((output) => [path.resolve(output), path.basename(output)]))
  const byName = new Map<string, ExtraFile>()
  for (const { text, line } of lines.filter(({ text }) => !text.startsWith('!'))) {
    const globber = await glob.create([anchored(baseDir, text), ...excluded].join('\n'), {
      matchDirectories: false,
      implicitDescendants: false,
      followSymbolicLinks: true
    })
    const matched = (await globber.glob()).filter((file) => !own.has(path.resolve(file)))
    if (matched.length === 0) {
      const message = `line ${line}, ${showValue(text)}, matches no file under ${showPath(baseDir)}.`
      if (request.failOnUnmatched) {
        throw new FledgeError(message, {
          key: 'files',
          fix: 'correct the glob (it is relative to working-directory), or set fail-on-unmatched-files: false to only warn.'
        })
      }
      log.warn(`files: ${message}`)
      continue
    }
    for (const file of matched) addFile(byName, file, [...own.values()], line)
  }
  for (const file of byName.values()) {
    const stat = await fs.stat(file.path)
    if (stat.size === 0) {
      // GitHub refuses empty uploads with a 422 that names nothing.
      throw new FledgeError(`${showPath(file.path)} is empty; GitHub does not accept empty release assets.`, {
        key: 'files',
        fix: 'give it content, or exclude it with a !glob line.'
      })
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function addFile(byName: Map<string, ExtraFile>, file: string, ownNames: readonly string[], line: number): void {
  const name = path.basename(file)
  if (!isPlainAssetName(name)) {
    throw new FledgeError(`line ${line} matches ${showPath(file)}, a name GitHub would rename on upload.`, {
      key: 'files',
      fix: 'rename it to letters, digits, ".", "_" and "-", not starting or ending with ".".'
    })
  }
  if (ownNames.includes(name)) {
    throw new FledgeError(`line ${line} matches ${showPath(file)}, which has the name of an asset the build makes (${name}).`, {
      key: 'files',
      fix: 'rename it, or exclude it with a !glob line.'
    })
  }
  const other = byName.get(name)
  if (other && other.path !== file) {
    throw new FledgeError(`${showPath(file)} and ${showPath(other.path)} would both be the release asset "${name}".`, {
      key: 'files',
      fix: 'rename one of them, or exclude one with a !glob line.'
    })
  }
  byName.set(name, { path: file, name, contentType: contentType(name) })
}

/** A pattern relative to `baseDir`, with glob characters in `baseDir` itself escaped. */
function anchored(baseDir: string, pattern: string): string {
  if (path.isAbsolute(pattern)) return pattern
  return `${baseDir.replace(/[*?[\]\\]/g, '\\$&')}/${pattern}`
}

const CONTENT_TYPES: Record<string, string> = {
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.zst': 'application/zstd',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.sig': 'application/pgp-signature',
  '.asc': 'application/pgp-signature',
  '.zip': 'application/zip',
  '.tar': 'application/x-tar'
}

function contentType(name: string): string {
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream'
}
