/**
 * fledge.toml's `[source] image` to a ContainerImage: every manifest and blob
 * verified by digest, layers still compressed in local files (see types.ts).
 * Registry pulls keep blobs in the tool cache by digest, so a pinned build whose
 * blobs are cached sends no request and an unpinned one sends one (the tag).
 */
import * as fs from 'node:fs/promises'
import type { ErrorLocation } from '../errors.js'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import type { NetworkOptions } from '../sources/http.js'
import { readDockerArchive, ociArchiveFiles } from './archives.js'
import {
  digestMismatch,
  findBlob,
  keepBlob,
  keepBytes,
  sha256Digest,
  type BlobStoreContext
} from './blob-cache.js'
import { resolveImage, type BlobSource, type Platform, type ResolvedImage } from './manifest.js'
import { layoutFolder, readLayout } from './oci-layout.js'
import { originOf, parseReference, pinnedReference, type RegistryReference } from './reference.js'
import { RegistryClient } from './registry.js'
import type { ContainerImage } from './types.js'

export interface ObtainContext {
  log: Logger
  network: NetworkOptions
  /** Keep registry blobs in the tool cache (and use them); without it they go to `tempDir`. */
  useCache: boolean
  /** The image's platform: linux and busybox's architecture. */
  platform: Platform
  /** fledge.toml's folder: local transports' paths are relative to it. */
  baseDir: string
  /** A build temp folder the caller removes after the layers are applied: uncached blobs, archive members. */
  tempDir: string
  /** Docker's config.json; default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string | undefined
  /** Credentials by registry host, from the face. */
  credentials?: Record<string, { username: string; password: string }> | undefined
  /** The Action's job token, used for ghcr.io when docker's config has no login for it. */
  githubToken?: string | undefined
  /** Where the reference was written, for messages about it (fledge.toml, line, `[source] image`). */
  where?: ErrorLocation | undefined
}

export async function obtainImage(
  reference: string,
  context: ObtainContext
): Promise<ContainerImage> {
  const parsed = parseReference(reference, context.baseDir, context.where ?? { key: 'image' })
  const origin = originOf(parsed)
  const local = (resolved: ResolvedImage): ContainerImage => ({
    reference,
    origin,
    digest: resolved.digest,
    configDigest: resolved.configDigest,
    pinned: false,
    config: resolved.config,
    layers: resolved.layers,
    cacheHit: true
  })
  switch (parsed.kind) {
    case 'registry':
      return pull(reference, parsed, context)
    case 'oci-layout':
      await mustExist(parsed.path, 'folder', reference, context)
      return local(await readLayout(layoutFolder(parsed.path), parsed.tag, context.platform))
    case 'oci-archive':
      await mustExist(parsed.path, 'file', reference, context)
      return local(
        await readLayout(
          await ociArchiveFiles(parsed.path, context.tempDir),
          parsed.tag,
          context.platform
        )
      )
    case 'docker-archive':
      await mustExist(parsed.path, 'file', reference, context)
      return local(
        await readDockerArchive(parsed.path, parsed.tag, context.platform, context.tempDir)
      )
  }
}

async function mustExist(
  file: string,
  kind: 'file' | 'folder',
  reference: string,
  context: ObtainContext
): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined)
  if (stat && (kind === 'folder' ? stat.isDirectory() : stat.isFile())) return
  throw new FledgeError(
    `"${reference}" names ${file}, which ${stat ? `is not a ${kind}` : 'does not exist'}.`,
    {
      ...(context.where ?? { key: 'image' }),
      fix: `paths in [source] image are relative to fledge.toml's folder (${context.baseDir}); check the path.`
    }
  )
}

async function pull(
  reference: string,
  parsed: RegistryReference,
  context: ObtainContext
): Promise<ContainerImage> {
  const { log } = context
  const client = new RegistryClient(parsed, {
    log,
    network: context.network,
    credentials: {
      dockerConfigPath: context.dockerConfigPath,
      credentials: context.credentials,
      githubToken: context.githubToken
    }
  })
  const store: BlobStoreContext = { log, useCache: context.useCache, tempDir: context.tempDir }
  const source: BlobSource = {
    name: client.name,
    async manifest(digest) {
      const cached = await findBlob(digest, store)
      if (cached) return { bytes: await fs.readFile(cached) }
      const fetched = await client.manifest(digest)
      if (!fetched) {
        throw new FledgeError(`${client.name} has no manifest ${digest} (HTTP 404).`, {
          ...(context.where ?? { key: 'image' }),
          fix: 'check the digest in [source] image; the image may have been deleted from the registry.'
        })
      }
      await keepBytes(digest, 'the manifest', client.name, fetched.bytes, store)
      return { bytes: fetched.bytes, contentType: fetched.contentType }
    },
    async blob(descriptor, what) {
      const cached = await findBlob(descriptor.digest, store)
      if (cached) return cached
      log.info(`Pulling ${what} of ${client.name} (${descriptor.digest}, ${descriptor.size} bytes)`)
      return keepBlob(
        descriptor.digest,
        what,
        client.name,
        (dest) => client.blob(descriptor.digest, dest, what),
        store
      )
    }
  }
  let top: { digest: string; bytes: Buffer; contentType?: string | undefined }
  if (parsed.digest) {
    top = { digest: parsed.digest, ...(await source.manifest(parsed.digest)) }
  } else {
    const tag = parsed.tag!
    const fetched = await client.manifest(tag)
    if (!fetched) {
      throw new FledgeError(
        `${client.name} has no tag "${tag}" (the registry answered HTTP 404).`,
        {
          ...(context.where ?? { key: 'image' }),
          fix: `check the tag and the repository name in [source] image (skopeo list-tags docker://${client.name} lists the tags).`
        }
      )
    }
    const digest = sha256Digest(fetched.bytes)
    if (fetched.announcedDigest && fetched.announcedDigest !== digest) {
      throw digestMismatch(
        `the manifest of tag "${tag}"`,
        fetched.announcedDigest,
        digest,
        client.name
      )
    }
    if (context.useCache) await keepBytes(digest, 'the manifest', client.name, fetched.bytes, store)
    top = { digest, bytes: fetched.bytes, contentType: fetched.contentType }
  }
  const resolved = await resolveImage(top, source, context.platform)
  if (!parsed.digest) {
    log.warn(
      `[source] image "${reference}" is a tag, which can move; it resolved to ${resolved.digest}. Pin it: image = "${pinnedReference(parsed, resolved.digest)}"`,
      context.where?.file
        ? {
            file: context.where.file,
            ...(context.where.line !== undefined ? { line: context.where.line } : {})
          }
        : undefined
    )
  }
  return {
    reference,
    origin: originOf(parsed),
    digest: resolved.digest,
    configDigest: resolved.configDigest,
    pinned: parsed.digest !== undefined,
    config: resolved.config,
    layers: resolved.layers,
    cacheHit: client.requests === 0
  }
}
