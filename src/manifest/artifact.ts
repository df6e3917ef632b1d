import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { silentLogger, type Logger } from '../log.js'
import { MiB, readRegularFile } from '../user-files.js'
import { writeFileAtomic } from './atomic.js'
import { checkCommandLine } from './cmdline-check.js'
import { generateManifest, type ImageDefaults } from './generate.js'
import { BOM, rewriteManifest } from './rewrite.js'
import { assertValidManifest, assertValidManifestText, ignoredKeys } from './validate.js'

/**
 * The manifest that ships beside the image: the author's JSON rewritten in
 * place, or one generated from fledge's manifest.toml template, or none.
 */
export type ManifestPlan =
  | { kind: 'rewrite'; file: string }
  | { kind: 'generate'; template: string; output: string }
  | { kind: 'none' }

const MAX_MANIFEST_BYTES = MiB

export interface ManifestValues {
  /** sha256 hex of the exact bytes that ship. */
  sha256: string
  /** initramfs.url; for a rewrite, undefined keeps what the file has. */
  url?: string | undefined
  /** Top-level version; undefined keeps it. */
  version?: string | undefined
  /** `[source] image`'s config: fills what a manifest.toml template leaves out of [workload]. */
  image?: ImageDefaults | undefined
}

export interface WrittenManifest {
  path: string
  json: string
  manifest: Record<string, unknown>
}

/**
 * fledge's rule: `-m manifest.toml` (the default) is used when it exists.
 * Something there that is not a file is used too, so that reading it
 * refuses it by name instead of the build silently shipping no manifest.
 */
export async function planFromTemplate(template: string, artifact: string): Promise<ManifestPlan> {
  const exists = await fs.stat(template).then(
    () => true,
    () => false
  )
  return exists
    ? { kind: 'generate', template, output: `${artifact}.manifest.json` }
    : { kind: 'none' }
}

export async function writePluginManifest(
  plan: ManifestPlan,
  values: ManifestValues,
  log: Logger
): Promise<WrittenManifest | undefined> {
  const rendered = renderPluginManifest(plan, values, log)
  if (!rendered) return undefined
  await writeFileAtomic(rendered.path, rendered.json)
  return rendered
}

/**
 * Everything writePluginManifest checks, before there is an image: the same manifest with a
 * placeholder checksum, so a manifest Volant would refuse stops the build before it writes
 * anything. Quiet: the real write reports the warnings.
 */
export function precheckPluginManifest(
  plan: ManifestPlan,
  values: Omit<ManifestValues, 'sha256'>
): void {
  renderPluginManifest(plan, { ...values, sha256: '0'.repeat(64) }, silentLogger)
}

function renderPluginManifest(
  plan: ManifestPlan,
  values: ManifestValues,
  log: Logger
): WrittenManifest | undefined {
  if (plan.kind === 'none') return undefined
  const checksum = `sha256:${values.sha256}`
  let target: string
  let json: string
  if (plan.kind === 'rewrite') {
    target = plan.file
    const text = readRegularFile(plan.file, {
      what: 'manifest',
      maxBytes: MAX_MANIFEST_BYTES,
      sizeHint: 'a plugin manifest is a few kilobytes: check that the path names the manifest JSON.'
    }).toString('utf8')
    json = rewriteManifest(text, { checksum, url: values.url, version: values.version }, plan.file)
    if (text.startsWith(BOM)) {
      log.warn(
        'removed the UTF-8 byte order mark at the start: volar refuses a manifest that has one.',
        { file: plan.file }
      )
    }
  } else {
    target = plan.output
    // A plain absolute path: volant's launcher opens initramfs.url as a path, so file:// fails.
    const url = values.url ?? path.resolve(plan.output.replace(/\.manifest\.json$/, ''))
    json = generateManifest(plan.template, { url, checksum }, log, values.image).json
  }
  const manifest = JSON.parse(json) as Record<string, unknown>
  assertValidManifest(manifest, target)
  for (const key of ignoredKeys(manifest)) {
    log.info(
      `${target}: ${key}: volant ignores this key (its decoder drops keys it does not know), so it never reaches volantd or the agent.`
    )
  }
  const warning = checkCommandLine(json)
  if (warning) log.warn(warning, { file: target })
  return { path: target, json, manifest }
}

/**
 * Checks a manifest source without building: a manifest.toml template is converted as the build
 * would (with a placeholder image), a manifest JSON is read as volar reads it. Throws every problem.
 */
export function validateManifestSource(file: string, log: Logger): void {
  if (/\.toml$/i.test(file)) {
    generateManifest(file, { url: path.resolve('plugin.cpio.gz'), checksum: '0'.repeat(64) }, log)
    return
  }
  const text = readRegularFile(file, {
    what: 'manifest',
    maxBytes: MAX_MANIFEST_BYTES,
    sizeHint: 'a plugin manifest is a few kilobytes: check that the path names the manifest JSON.'
  }).toString('utf8')
  assertValidManifestText(text, file)
  for (const key of ignoredKeys(JSON.parse(text))) {
    log.info(
      `${file}: ${key}: volant ignores this key (its decoder drops keys it does not know), so it never reaches volantd or the agent.`
    )
  }
}
