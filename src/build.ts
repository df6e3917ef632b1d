import { writeArchive, type ArchiveResult } from './archive/write.js'
import { DEFAULT_COMPRESSION, effectiveLevel, type Compression } from './archive/compression.js'
import { withCleanup } from './cleanup.js'
import { parseSourceDateEpoch } from './config/epoch.js'
import { loadConfig } from './config/load.js'
import { containerFilesystem, type ContainerFilesystem } from './container/source.js'
import type { ContainerImage } from './container/types.js'
import type { BuildConfig } from './config/types.js'
import { assembleImage, planInit, type InitPlan } from './image/assemble.js'
import { checkImageBinaries } from './elf/check.js'
import { FledgeError, FledgeErrors } from './errors.js'
import type { Replacement } from './image/builder.js'
import type { Entry } from './image/entry.js'
import { compileInit, type CompiledInit } from './init/compile.js'
import type { Logger } from './log.js'
import type { ManifestPlan } from './manifest/artifact.js'
import { plannedOutputs, refuseOutputsOverInputs } from './outputs.js'
import { githubApiUrl, resolveAgent, type ResolvedAgent } from './sources/agent.js'
import { resolveBusybox } from './sources/busybox.js'
import { defaultNetworkOptions, type NetworkOptions } from './sources/http.js'
import type { ResolvedFile } from './sources/types.js'
import { fileError, isFileSystemError } from './user-files.js'
import { showPath } from './display.js'
import * as path from 'node:path'

export interface BuildOptions {
  configPath: string
  outputPath: string
  /** How the cpio is compressed; default gzip at its default level. */
  compression?: Compression | undefined
  /** The manifest the face writes after the build: its source and output are checked too. */
  manifest?: ManifestPlan | undefined
  /** Raw SOURCE_DATE_EPOCH (validated here); unset → fledge's 1704067200. */
  sourceDateEpoch?: string | undefined
  useCache?: boolean
  /** Accept dynamically linked executables whose libraries are mapped. */
  allowDynamic?: boolean
  /** Use this agent release tag instead of fledge.toml's (verify pins "latest" to the recorded tag). */
  agentVersion?: string | undefined
  /** Use this manifest digest for a `[source] image` tag (verify pins it to the recorded digest). */
  imageDigest?: string | undefined
  /** GitHub API base and token, for agent releases. */
  apiUrl?: string | undefined
  token?: string | undefined
  network?: NetworkOptions
  log: Logger
}

export interface BuildResult {
  config: BuildConfig
  archive: ArchiveResult
  /** The compression used, its level filled in (none has no level). */
  compression: Compression
  entries: Entry[]
  replacements: Replacement[]
  warnings: string[]
  epoch: number
  initPlan: InitPlan
  busybox: ResolvedFile & { url: string; pinned: boolean }
  agent?: ResolvedAgent
  init?: CompiledInit
  /** `[source] image` / `dockerfile`: the container image under the build (its layers' blobs are gone after the build). */
  image?: Omit<ContainerImage, 'layers'> & { layers: { digest: string; mediaType: string; size: number }[] }
  /** Milliseconds per stage. */
  timings: Record<'config' | 'sources' | 'image' | 'archive', number>
  /** True when every download and the init came from the cache. */
  cacheHit: boolean
}

/**
 * config → sources → image → archive. Both faces (Action, CLI) call this. The temp
 * folders it makes are gone when it returns or throws.
 */
export function build(options: BuildOptions): Promise<BuildResult> {
  return withCleanup(() => buildInScope(options))
}

async function buildInScope(options: BuildOptions): Promise<BuildResult> {
  const { log } = options
  const clock = stopwatch()
  const epoch = parseSourceDateEpoch(options.sourceDateEpoch)
  const config = await loadConfig(options.configPath)
  await refuseOutputsOverInputs(config, plannedOutputs(options.outputPath, options.manifest), options.manifest)
  const initPlan = await planInit(config)
  const timings = { config: clock(), sources: 0, image: 0, archive: 0 }

  const context = {
    log,
    network: options.network ?? defaultNetworkOptions(),
    useCache: options.useCache ?? true
  }
  const busyboxWork = resolveBusybox(config.busybox, context)
  const container = config.container
  // The image's platform is busybox's, so the image waits for busybox (usually a cache hit).
  const containerWork: Promise<ContainerFilesystem> | undefined = container
    ? busyboxWork.then((file) =>
        containerFilesystem(config, container, file, {
          ...context,
          githubToken: options.token,
          pinDigest: options.imageDigest
        })
      )
    : undefined
  const [busybox, agent, init, base] = await withConfigLocation(config, allSettled([
    busyboxWork,
    config.agent
      ? resolveAgent(
          config.agent.strategy === 'release' && options.agentVersion
            ? { ...config.agent, version: options.agentVersion }
            : config.agent,
          {
          ...context,
          apiUrl: options.apiUrl ?? githubApiUrl(),
          token: options.token
          }
        )
      : undefined,
    initPlan.kind === 'c-init' ? compileInit(context) : undefined,
    containerWork
  ]))
  timings.sources = clock()

  for (const warning of base?.warnings ?? []) log.warn(warning)
  const image = await assembleImage(config, initPlan, {
    busybox,
    ...(init ? { cInit: init } : {}),
    ...(agent ? { agent } : {}),
    ...(base ? { image: base.entries } : {})
  })
  for (const warning of image.warnings) log.warn(warning)
  for (const r of image.replacements) log.info(`${r.by} replaces ${r.path} (was: ${r.replaced})`)
  const binaries = await checkImageBinaries(image.entries, { allowDynamic: options.allowDynamic })
  for (const warning of binaries.warnings) log.warn(warning)
  if (binaries.errors.length === 1) throw binaries.errors[0]
  if (binaries.errors.length > 1) throw new FledgeErrors(binaries.errors)
  timings.image = clock()

  const compression = withLevel(options.compression ?? DEFAULT_COMPRESSION)
  const archive = await writeArchive(image.entries, options.outputPath, { mtime: epoch, compression }).catch(
    (error: unknown) => {
      throw outputError(error, options.outputPath)
    }
  )
  timings.archive = clock()

  const result: BuildResult = {
    config,
    archive,
    compression,
    entries: image.entries,
    replacements: image.replacements,
    warnings: [...(base?.warnings ?? []), ...image.warnings, ...binaries.warnings],
    epoch,
    initPlan,
    busybox,
    timings,
    cacheHit: busybox.cacheHit && (agent?.cacheHit ?? true) && (init?.cacheHit ?? true) && (base?.image.cacheHit ?? true)
  }
  if (base) {
    const { layers, ...rest } = base.image
    result.image = { ...rest, layers: layers.map(({ digest, mediaType, size }) => ({ digest, mediaType, size })) }
  }
  if (agent) result.agent = agent
  if (init) result.init = init
  return result
}

/**
 * Promise.all that waits for every source before failing, so none is still
 * downloading or compiling into the temp folder when the build reports an error.
 */
async function allSettled<T extends readonly unknown[]>(work: { [K in keyof T]: Promise<T[K]> | T[K] }): Promise<T> {
  const results = await Promise.allSettled(work)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** Source errors name a config key ("agent.path"); point them at its line in fledge.toml. */
async function withConfigLocation<T>(config: BuildConfig, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    if (error instanceof FledgeError && !error.location.file && error.location.key) {
      const at = config.positions.get(error.location.key) ?? config.positions.get(error.location.key.split('.')[0] ?? '')
      throw new FledgeError(error.message, { ...error.location, file: config.file, line: at?.line, column: at?.column, fix: error.fix })
    }
    throw error
  }
}

/** The output's folder is named when creating it failed (EEXIST, ENOTDIR), else the output itself. */
function outputError(error: unknown, output: string): unknown {
  if (!isFileSystemError(error)) return error
  const { syscall, path: failed } = error as NodeJS.ErrnoException
  if (syscall === 'mkdir' && failed) return fileError(error, failed, { what: 'the output folder', verb: 'create' })
  return fileError(error, output, {
    what: 'the output',
    verb: 'write',
    fixes: { EISDIR: `give a file name, e.g. ${showPath(path.join(output, 'plugin.cpio.gz'))}.` }
  })
}

function withLevel(compression: Compression): Compression {
  const level = effectiveLevel(compression)
  return level === undefined ? { format: compression.format } : { format: compression.format, level }
}

function stopwatch(): () => number {
  let last = performance.now()
  return () => {
    const now = performance.now()
    const elapsed = Math.round(now - last)
    last = now
    return elapsed
  }
}
