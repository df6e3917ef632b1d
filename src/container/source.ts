import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { removeLater } from '../cleanup.js'
import type { BuildConfig, ContainerSource } from '../config/types.js'
import { parseElf } from '../elf/parse.js'
import { openFileReader } from '../elf/reader.js'
import { FledgeError, type ErrorLocation } from '../errors.js'
import type { Entry } from '../image/entry.js'
import type { Logger } from '../log.js'
import type { NetworkOptions } from '../sources/http.js'
import { applyLayers } from './layers.js'
import type { Platform } from './manifest.js'
import { obtainImage } from './obtain.js'
import { parseReference, pinnedReference } from './reference.js'
import type { ContainerImage } from './types.js'

const run = promisify(execFile)

export interface ContainerContext {
  log: Logger
  network: NetworkOptions
  useCache: boolean
  /** The Action's job token (ghcr.io). */
  githubToken?: string | undefined
  /** `verify`: rebuild from this manifest digest (the recorded one) instead of what a tag points at now. */
  pinDigest?: string | undefined
}

export interface ContainerFilesystem {
  image: ContainerImage
  entries: Entry[]
  warnings: string[]
}

/**
 * `[source] image` (or a Dockerfile built with `docker buildx`) to entries: the
 * image for busybox's platform, fetched and verified, its layers applied.
 */
export async function containerFilesystem(
  config: BuildConfig,
  source: ContainerSource,
  busybox: { path: string },
  context: ContainerContext
): Promise<ContainerFilesystem> {
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'fledge-image-'))
  removeLater(tempDir)
  const platform = await platformOf(busybox.path)
  const key = source.kind === 'image' ? 'source.image' : 'source.dockerfile'
  const at = config.positions.get(key)
  const where: ErrorLocation = { file: config.file, line: at?.line, column: at?.column, key }
  const reference =
    source.kind === 'image'
      ? pinned(source.reference, config.dir, context.pinDigest, where)
      : await buildDockerfile(source, platform, tempDir, where, context.log)
  const image = await obtainImage(reference, {
    log: context.log,
    network: context.network,
    useCache: context.useCache,
    platform,
    baseDir: config.dir,
    tempDir,
    githubToken: context.githubToken,
    where
  })
  // As written in fledge.toml, so records and messages name what the author wrote.
  if (source.kind === 'image') image.reference = source.reference
  const applied = await applyLayers(image, { tempDir })
  return { image, entries: applied.entries, warnings: applied.warnings }
}

/** A registry tag pinned to the recorded digest (verify); local transports are read as they are. */
function pinned(reference: string, baseDir: string, digest: string | undefined, where: ErrorLocation): string {
  if (!digest) return reference
  const parsed = parseReference(reference, baseDir, where)
  if (parsed.kind !== 'registry' || parsed.digest) return reference
  return pinnedReference(parsed, digest)
}

const OCI_ARCH: Record<string, Platform> = {
  'x86-64': { os: 'linux', architecture: 'amd64' },
  aarch64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  i386: { os: 'linux', architecture: '386' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
  ppc64le: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' }
}

/** The image's platform is busybox's: both run on the same guest. */
async function platformOf(busybox: string): Promise<Platform> {
  const reader = await openFileReader(busybox)
  let machine: string | undefined
  try {
    const elf = await parseElf(reader)
    machine = elf?.status === 'ok' ? elf.machine : undefined
  } finally {
    await reader.close()
  }
  const platform = machine === undefined ? undefined : OCI_ARCH[machine]
  if (!platform) {
    throw new FledgeError(`busybox is ${machine === undefined ? 'not an ELF executable' : `built for ${machine}`}, so the container image's platform is unknown.`, {
      key: 'source.busybox_url',
      fix: 'use a static busybox for x86-64 or aarch64 (the default busybox_url is one).'
    })
  }
  return platform
}

/** `docker buildx build … --output type=oci` into the build's temp folder; the result is read as oci-archive. */
async function buildDockerfile(
  source: Extract<ContainerSource, { kind: 'dockerfile' }>,
  platform: Platform,
  tempDir: string,
  where: ErrorLocation,
  log: Logger
): Promise<string> {
  const available = await run('docker', ['buildx', 'version'], { timeout: 30_000 }).then(
    () => true,
    () => false
  )
  if (!available) {
    throw new FledgeError('building [source] dockerfile needs `docker buildx`, which is not available on this machine.', {
      ...where,
      fix: 'build and save the image yourself — `docker build -t app . && docker save app -o app.tar` — then write image = "docker-archive:app.tar" in [source] instead of dockerfile.'
    })
  }
  const archive = path.join(tempDir, 'dockerfile-image.tar')
  const platformName = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`
  const args = ['buildx', 'build', '--file', source.dockerfile, '--platform', platformName, '--output', `type=oci,dest=${archive}`]
  if (source.target) args.push('--target', source.target)
  for (const [name, value] of Object.entries(source.buildArgs)) args.push('--build-arg', `${name}=${value}`)
  args.push(source.context)
  log.info(`Building ${source.dockerfile} with docker buildx (${platformName})`)
  try {
    await run('docker', args, { maxBuffer: 64 * 1024 * 1024 })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-5).join(' | ')
    throw new FledgeError(`docker buildx could not build ${source.dockerfile}: ${stderr || (error as Error).message}.`, {
      ...where,
      fix: 'run the same `docker buildx build` yourself to see the full log, and fix the Dockerfile.'
    })
  }
  return `oci-archive:${archive}`
}
