/**
 * Image manifests and indexes, OCI and Docker v2 schema 2 alike: parsing, picking
 * the platform's manifest from an index, reading the config, and walking from the
 * top manifest to verified config and layers through any blob source (a registry,
 * a layout folder, an archive).
 */
import * as fs from 'node:fs/promises'
import { FledgeError } from '../errors.js'
import type { ImageConfigSummary, ImageLayer } from './types.js'

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd'
} as const

/** What a registry is asked for, best first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest
].join(', ')

export interface Platform {
  os: string
  architecture: string
  variant?: string | undefined
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
}

export type ParsedManifest =
  | { kind: 'index'; manifests: Descriptor[] }
  | { kind: 'manifest'; config: Descriptor; layers: Descriptor[] }

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function descriptor(value: unknown): Descriptor | undefined {
  if (!isRecord(value) || typeof value['digest'] !== 'string' || typeof value['size'] !== 'number')
    return undefined
  const platform = value['platform']
  return {
    mediaType: typeof value['mediaType'] === 'string' ? value['mediaType'] : '',
    digest: value['digest'],
    size: value['size'],
    ...(isRecord(platform) &&
    typeof platform['os'] === 'string' &&
    typeof platform['architecture'] === 'string'
      ? {
          platform: {
            os: platform['os'],
            architecture: platform['architecture'],
            ...(typeof platform['variant'] === 'string' ? { variant: platform['variant'] } : {})
          }
        }
      : {}),
    ...(isRecord(value['annotations'])
      ? { annotations: value['annotations'] as Record<string, string> }
      : {})
  }
}

/** `what` names the manifest in messages ("the manifest sha256:… of 127.0.0.1:5000/x/y"). */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
  what: string
): ParsedManifest {
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new FledgeError(`${what} is not JSON.`, {
      fix: 'check that the reference names a container image.'
    })
  }
  const unsupported = (kind: string): FledgeError =>
    new FledgeError(`${what} is ${kind}, which fledge does not read.`, {
      fix: 'push the image again with a current docker, buildx or skopeo (they write OCI or Docker v2 schema 2 manifests).'
    })
  if (!isRecord(json)) throw unsupported('not a manifest')
  if (json['schemaVersion'] === 1) throw unsupported('a Docker v2 schema 1 manifest')
  const mediaType =
    typeof json['mediaType'] === 'string'
      ? json['mediaType']
      : (contentType ?? '').split(';')[0]!.trim()
  if (Array.isArray(json['manifests'])) {
    const manifests = json['manifests'].map(descriptor)
    if (manifests.some((m) => !m)) throw unsupported('an index with a malformed entry')
    return { kind: 'index', manifests: manifests as Descriptor[] }
  }
  if (json['config'] !== undefined && Array.isArray(json['layers'])) {
    const config = descriptor(json['config'])
    const layers = json['layers'].map(descriptor)
    if (!config || layers.some((l) => !l))
      throw unsupported('a manifest with a malformed descriptor')
    return { kind: 'manifest', config, layers: layers as Descriptor[] }
  }
  throw unsupported(mediaType ? `of type ${mediaType}` : 'neither an image manifest nor an index')
}

const platformName = (p: Platform): string =>
  `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`

function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || have.architecture !== want.architecture) return false
  if (!want.variant) return true
  // arm64's only variant is v8, often left out.
  return (
    have.variant === want.variant ||
    (want.architecture === 'arm64' && !have.variant && want.variant === 'v8')
  )
}

/** The index's manifest for `want`; none is an error listing what the index has. */
export function choosePlatform(manifests: Descriptor[], want: Platform, what: string): Descriptor {
  const images = manifests.filter((m) => m.platform && m.platform.os !== 'unknown')
  const found = images.find((m) => platformMatches(m.platform!, want))
  if (found) return found
  const have = [...new Set(images.map((m) => platformName(m.platform!)))]
  throw new FledgeError(
    `${what} has no ${platformName(want)} image; it has ${have.length ? have.join(', ') : 'no platform-tagged image'}.`,
    {
      fix: `use an image built for ${platformName(want)}, or build for the image's architecture (busybox's decides it).`
    }
  )
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')
    ? (value as string[])
    : undefined

export function summarizeConfig(bytes: Buffer, what: string): ImageConfigSummary {
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new FledgeError(`${what} is not JSON.`, {
      fix: 'rebuild the image; its config blob is damaged.'
    })
  }
  if (
    !isRecord(json) ||
    typeof json['os'] !== 'string' ||
    typeof json['architecture'] !== 'string'
  ) {
    throw new FledgeError(`${what} does not name the image's os and architecture.`, {
      fix: 'rebuild the image with a current docker, buildx or skopeo.'
    })
  }
  const config = isRecord(json['config']) ? json['config'] : {}
  const entrypoint = strings(config['Entrypoint'])
  const cmd = strings(config['Cmd'])
  const text = (key: string): string | undefined =>
    typeof config[key] === 'string' && config[key] !== '' ? (config[key] as string) : undefined
  const workingDir = text('WorkingDir')
  const user = text('User')
  return {
    os: json['os'],
    architecture: json['architecture'],
    ...(typeof json['variant'] === 'string' ? { variant: json['variant'] } : {}),
    env: strings(config['Env']) ?? [],
    ...(entrypoint ? { entrypoint } : {}),
    ...(cmd ? { cmd } : {}),
    ...(workingDir ? { workingDir } : {}),
    ...(user ? { user } : {})
  }
}

/** Where blobs come from; every answer is verified against its digest. */
export interface BlobSource {
  /** For messages: "127.0.0.1:5000/x/y", "the layout /abs/dir". */
  name: string
  /** The manifest's verified bytes and the content type it came with. */
  manifest(digest: string): Promise<{ bytes: Buffer; contentType?: string | undefined }>
  /** A verified local file of the blob. */
  blob(descriptor: Descriptor, what: string): Promise<string>
}

export interface ResolvedImage {
  digest: string
  configDigest: string
  config: ImageConfigSummary
  layers: ImageLayer[]
}

/** From the top manifest (an index or an image manifest) to the platform's verified config and layers. */
export async function resolveImage(
  top: { digest: string; bytes: Buffer; contentType?: string | undefined },
  source: BlobSource,
  want: Platform
): Promise<ResolvedImage> {
  let digest = top.digest
  let parsed = parseManifest(
    top.bytes,
    top.contentType,
    `the manifest ${top.digest} of ${source.name}`
  )
  if (parsed.kind === 'index') {
    const chosen = choosePlatform(
      parsed.manifests,
      want,
      `the image index ${top.digest} of ${source.name}`
    )
    digest = chosen.digest
    const fetched = await source.manifest(digest)
    parsed = parseManifest(
      fetched.bytes,
      fetched.contentType ?? chosen.mediaType,
      `the manifest ${digest} of ${source.name}`
    )
    if (parsed.kind === 'index') {
      throw new FledgeError(
        `the index ${top.digest} of ${source.name} points at another index (${digest}) for ${platformName(want)}.`,
        {
          fix: 'use an image whose index lists image manifests.'
        }
      )
    }
  }
  const configPath = await source.blob(parsed.config, 'the config')
  const config = summarizeConfig(
    await fs.readFile(configPath),
    `the config ${parsed.config.digest} of ${source.name}`
  )
  if (!platformMatches(config, { os: want.os, architecture: want.architecture })) {
    throw new FledgeError(
      `${source.name} is a ${platformName(config)} image; this build is for ${platformName(want)}.`,
      {
        fix: `use the image's ${platformName(want)} variant (or a multi-platform tag), or build for ${platformName(config)}.`
      }
    )
  }
  const layers: ImageLayer[] = []
  for (const [index, layer] of parsed.layers.entries()) {
    const path = await source.blob(layer, `layer ${index + 1}`)
    layers.push({ digest: layer.digest, mediaType: layer.mediaType, size: layer.size, path })
  }
  return { digest, configDigest: parsed.config.digest, config, layers }
}
