import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
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
import { obtainDockerfileImage } from './dockerfile.js'
import { obtainImage, type ObtainContext } from './obtain.js'
import { parseReference, pinnedReference } from './reference.js'
import type { ContainerImage } from './types.js'

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
  const obtain: ObtainContext = {
    log: context.log,
    network: context.network,
    useCache: context.useCache,
    platform,
    baseDir: config.dir,
    tempDir,
    githubToken: context.githubToken,
    where
  }
  let image: ContainerImage
  if (source.kind === 'image') {
    image = await obtainImage(pinned(source.reference, config.dir, context.pinDigest, where), obtain)
    // As written in fledge.toml, so records and messages name what the author wrote.
    image.reference = source.reference
  } else {
    const relative = (file: string) => path.relative(config.dir, file) || '.'
    image = await obtainDockerfileImage(
      { dockerfile: relative(source.dockerfile), context: relative(source.context), target: source.target, buildArgs: source.buildArgs },
      obtain
    )
  }
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
