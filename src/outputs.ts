/**
 * A build never writes over what it reads: the image (and the manifest written beside
 * it) may not be the config, the manifest source, the agent or init file, a mapped
 * file, or lie inside a mapped folder (the next build would pack it, and its bytes
 * would change every time). Paths are compared after resolving symlinks and `..`,
 * and by inode, so another spelling of the same file is caught too.
 */
import type { Stats } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BuildConfig, Mapping } from './config/types.js'
import { FledgeError } from './errors.js'
import type { ManifestPlan } from './manifest/artifact.js'

export interface PlannedOutput {
  path: string
  /** "the image", "the manifest". */
  what: string
}

interface Input {
  path: string
  /** Completes "… is {what}": "the config file fledge.toml". */
  what: string
  mapping?: Mapping
  key?: string
}

interface Located {
  real: string
  stat: Stats | undefined
}

/** The files a build writes: the image, and the manifest that `manifest` plans. */
export function plannedOutputs(image: string, manifest: ManifestPlan | undefined): PlannedOutput[] {
  const outputs: PlannedOutput[] = [{ path: image, what: 'the image' }]
  if (manifest?.kind === 'generate') outputs.push({ path: manifest.output, what: 'the manifest' })
  if (manifest?.kind === 'rewrite') outputs.push({ path: manifest.file, what: 'the manifest' })
  return outputs
}

/** Throws a FledgeError naming the input that an output would overwrite or be packed into. */
export async function refuseOutputsOverInputs(
  config: BuildConfig,
  outputs: readonly PlannedOutput[],
  manifest: ManifestPlan | undefined
): Promise<void> {
  const inputs = configInputs(config)
  const manifestSource =
    manifest?.kind === 'generate'
      ? manifest.template
      : manifest?.kind === 'rewrite'
        ? manifest.file
        : undefined
  if (manifestSource)
    inputs.push({ path: manifestSource, what: `the manifest source ${manifestSource}` })

  const located = await Promise.all(
    inputs.map(async (input) => ({ input, at: await locate(input.path) }))
  )
  for (const output of outputs) {
    const out = await locate(output.path)
    for (const { input, at } of located) {
      // The rewritten manifest is its own source, on purpose.
      if (
        output.what === 'the manifest' &&
        manifest?.kind === 'rewrite' &&
        input.path === manifestSource
      )
        continue
      if (sameFile(out, at)) throw overwriteError(config, output, input)
      if (at.stat?.isDirectory() && isInside(out.real, at.real))
        throw insideFolderError(config, output, input)
    }
  }
}

function configInputs(config: BuildConfig): Input[] {
  const inputs: Input[] = [{ path: config.file, what: `the config file ${config.file}` }]
  if (config.agent?.strategy === 'local')
    inputs.push({ path: config.agent.path, what: `the agent ([agent] path)`, key: 'agent.path' })
  if (config.init.mode === 'custom')
    inputs.push({
      path: path.resolve(config.dir, config.init.path),
      what: 'the init program ([init] path)',
      key: 'init.path'
    })
  if (config.busybox.url.startsWith('file://')) {
    try {
      inputs.push({
        path: fileURLToPath(config.busybox.url),
        what: 'busybox (busybox_url)',
        key: 'source.busybox_url'
      })
    } catch {
      // not a local file URL: nothing on disk to protect
    }
  }
  for (const mapping of config.mappings) {
    inputs.push({
      path: mapping.sourcePath,
      what: `the source of mapping "${mapping.source}" = "${mapping.destination}"`,
      mapping
    })
  }
  return inputs
}

/** The real path (symlinks and `..` resolved, also for a file not yet written) and its stat. */
async function locate(file: string): Promise<Located> {
  const absolute = path.resolve(file)
  const stat = await fs.stat(absolute).catch(() => undefined)
  const real = await fs.realpath(absolute).catch(async () => {
    // Not there (yet), or a dangling link: resolve the nearest folder that exists.
    let dir = path.dirname(absolute)
    const rest = [path.basename(absolute)]
    for (;;) {
      const resolved = await fs.realpath(dir).catch(() => undefined)
      if (resolved !== undefined) return path.join(resolved, ...rest)
      if (path.dirname(dir) === dir) return absolute
      rest.unshift(path.basename(dir))
      dir = path.dirname(dir)
    }
  })
  return { real, stat }
}

function sameFile(a: Located, b: Located): boolean {
  if (a.real === b.real) return true
  return !!a.stat && !!b.stat && a.stat.dev === b.stat.dev && a.stat.ino === b.stat.ino
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

function where(
  config: BuildConfig,
  input: Input
): { file: string; line?: number; column?: number; key?: string } {
  const key = input.mapping ? 'mappings' : input.key
  const at = input.mapping?.position ?? (key ? config.positions.get(key) : undefined)
  return {
    file: config.file,
    ...(at ? { line: at.line, column: at.column } : {}),
    ...(input.mapping ? { key: `mappings."${input.mapping.source}"` } : key ? { key } : {})
  }
}

function overwriteError(config: BuildConfig, output: PlannedOutput, input: Input): FledgeError {
  return new FledgeError(
    `the output path ${output.path} for ${output.what} is ${input.what}, which the build reads; writing there would destroy it.`,
    { ...where(config, input), fix: fixFor(output) }
  )
}

function insideFolderError(config: BuildConfig, output: PlannedOutput, input: Input): FledgeError {
  return new FledgeError(
    `the output path ${output.path} for ${output.what} is inside the folder that is ${input.what}, so the next build would pack it into the image.`,
    { ...where(config, input), fix: fixFor(output) }
  )
}

function fixFor(output: PlannedOutput): string {
  return output.what === 'the image'
    ? 'write the image elsewhere (-o, or the action input `output`), outside the config, the manifest and every mapped file and folder.'
    : 'keep the manifest outside the config and every mapped file and folder (the generated one is written beside the image: write the image elsewhere).'
}
