import * as path from 'node:path'
import { githubApiUrl } from '../sources/agent.js'
import { obtainKernel } from '../boot/kernel-source.js'
import { bootSettings, type BootRequest } from '../boot/settings.js'
import { bootImage, type BootResult } from '../boot/smoke.js'
import type { CompressionFormat } from '../archive/compression.js'
import { build, type BuildOptions, type BuildResult } from '../build.js'
import { loadConfig } from '../config/load.js'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import { checkSizeBudget } from '../image/budget.js'
import { planFromTemplate, precheckPluginManifest, writeFileAtomic, writePluginManifest, type ManifestPlan, type WrittenManifest } from '../manifest/index.js'
import { plannedOutputs } from '../outputs.js'
import { matchExtraFiles, type ExtraFilesRequest } from './extra-files.js'
import { sha256sums } from './notes.js'
import { makeBuildRecord, type BuildRecord } from './record.js'

export interface ProductOptions extends Omit<BuildOptions, 'manifest'> {
  /** Paths in the build record are relative to this folder (the Action's working-directory). */
  baseDir: string
  /** A manifest JSON to rewrite in place, or a manifest.toml template (used when it exists). */
  manifest?: { rewrite: string } | { template: string } | undefined
  /** initramfs.url and version to write into the manifest; undefined keeps (rewrite) or derives them. */
  manifestUrl?: string | undefined
  manifestVersion?: string | undefined
  /** Fail when the compressed image is larger (bytes). */
  maxSize?: number | undefined
  /** Write `<output>.build.json` (default true). */
  record?: boolean
  /** Write SHA256SUMS beside the image (default true). */
  sums?: boolean
  /** More files to attach: listed in SHA256SUMS and published with the image. */
  files?: ExtraFilesRequest | undefined
  /** Boot the image as a smoke test. */
  boot?: (BootRequest & { kernel?: string | undefined; kernelSha256?: string | undefined }) | undefined
}

const CONTENT_TYPE: Record<CompressionFormat, string> = {
  gzip: 'application/gzip',
  zstd: 'application/zstd',
  lz4: 'application/x-lz4',
  none: 'application/x-cpio'
}

/** A file the build produced, in the order a release lists them. */
export interface ProductFile {
  path: string
  name: string
  contentType: string
  sha256: string
}

export interface ProductResult {
  build: BuildResult
  manifest?: WrittenManifest | undefined
  record?: { path: string; record: BuildRecord } | undefined
  sumsPath?: string | undefined
  /** Image, manifest, build record, the `files` matched, SHA256SUMS: what a release publishes. */
  files: ProductFile[]
  /** The `files` matched, also in `files`. */
  extraFiles: ProductFile[]
  boot?: BootResult | undefined
}

/**
 * Every product step, for both faces: build → checks → manifest → build
 * record → SHA256SUMS → (optional) boot. The faces only map their inputs in
 * and the result out.
 */
export async function makeProduct(options: ProductOptions): Promise<ProductResult> {
  const { log } = options
  const plan: ManifestPlan = !options.manifest
    ? { kind: 'none' }
    : 'rewrite' in options.manifest
      ? { kind: 'rewrite', file: path.resolve(options.manifest.rewrite) }
      : await planFromTemplate(path.resolve(options.manifest.template), path.resolve(options.outputPath))
  // A manifest Volant would refuse stops the build before any output is written.
  // With a container image, [workload] may come from its config, known only after the pull.
  const fromImage = plan.kind === 'generate' && (await loadConfig(options.configPath).then((c) => c.container !== undefined, () => false))
  precheckPluginManifest(plan, { url: options.manifestUrl, version: options.manifestVersion, ...(fromImage ? { image: 'pending' as const } : {}) })
  const image = path.resolve(options.outputPath)
  const ownOutputs = [...plannedOutputs(image, plan).map((o) => o.path), `${image}.build.json`, path.join(path.dirname(image), 'SHA256SUMS')]
  const extras = options.files ? await matchExtraFiles(options.files, options.baseDir, ownOutputs, log) : []
  const result = await build({ ...options, manifest: plan })
  const archive = result.archive
  checkSizeBudget(archive.size, options.maxSize, result.entries)

  const manifest = await writePluginManifest(
    plan,
    { sha256: archive.sha256, url: options.manifestUrl, version: options.manifestVersion, image: result.image?.config },
    log
  )

  const files: ProductFile[] = [{ path: archive.path, name: path.basename(archive.path), contentType: CONTENT_TYPE[result.compression.format], sha256: archive.sha256 }]
  if (manifest) files.push({ path: manifest.path, name: path.basename(manifest.path), contentType: 'application/json', sha256: await sha256File(manifest.path) })

  const product: ProductResult = { build: result, manifest, files, extraFiles: [] }
  if (options.record ?? true) {
    const recordPath = `${archive.path}.build.json`
    const record = await makeBuildRecord(result, { baseDir: options.baseDir, recordDir: path.dirname(recordPath), manifest })
    const text = `${JSON.stringify(record, null, 2)}\n`
    await writeFileAtomic(recordPath, text)
    product.record = { path: recordPath, record }
    files.push({ path: recordPath, name: path.basename(recordPath), contentType: 'application/json', sha256: await sha256File(recordPath) })
  }
  for (const extra of extras) product.extraFiles.push({ ...extra, sha256: await sha256File(extra.path) })
  files.push(...product.extraFiles)
  if (options.sums ?? true) {
    const sumsPath = path.join(path.dirname(archive.path), 'SHA256SUMS')
    await writeFileAtomic(sumsPath, sha256sums(files))
    product.sumsPath = sumsPath
    files.push({ path: sumsPath, name: 'SHA256SUMS', contentType: 'text/plain', sha256: await sha256File(sumsPath) })
  }

  if (options.boot) {
    const kernel = await obtainKernel(options.boot.kernel || undefined, options.boot.kernelSha256 || undefined, log, {
      apiUrl: options.apiUrl ?? githubApiUrl(),
      token: options.token,
      agentTag: result.agent?.strategy === 'release' ? result.agent.tag : undefined
    })
    const boot = await bootImage({ archive: archive.path, kernel, ...bootSettings(manifest, options.boot), log })
    if (!boot.ok) {
      throw new FledgeError(`boot smoke test failed: ${boot.reason ?? 'unknown reason'}`, {
        key: 'smoke-test',
        fix: 'read the console tail above; see "Troubleshooting" in the README.'
      })
    }
    product.boot = boot
  }
  return product
}
