/**
 * Image archives, read in place: `oci-archive:FILE` (a tar of an OCI layout) and
 * `docker-archive:FILE` (`docker save`: manifest.json, the config and the layer
 * tars, as `<id>/layer.tar` or as `blobs/sha256/<hex>`). Members are found by
 * their tar headers and only the ones needed are copied out, to the temp folder.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import { digestMismatch, sha256Digest } from './blob-cache.js'
import { MEDIA_TYPES, summarizeConfig, type Platform, type ResolvedImage } from './manifest.js'
import type { LayoutFiles } from './oci-layout.js'
import { cString, isZero, parseHeader, parsePax, TarFormatError } from './tar.js'
import type { ImageLayer } from './types.js'

interface Member {
  offset: number
  size: number
}

const BLOCK = 512

const normalize = (name: string): string =>
  path.posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/$/, '')

/** The regular files of an uncompressed tar (ustar, pax and GNU long names), by normalized name; symlinks to them too. */
export async function tarMembers(file: string): Promise<Map<string, Member>> {
  const handle = await fs.open(file, 'r')
  const members = new Map<string, Member>()
  const links = new Map<string, string>()
  const bad = (why: string): FledgeError =>
    new FledgeError(`${file} is not a readable tar archive (${why}).`, {
      fix: 'use the archive as written by docker save, skopeo copy or buildx --output type=oci (uncompressed tar).'
    })
  try {
    const { size: total } = await handle.stat()
    const header = Buffer.alloc(BLOCK)
    let offset = 0
    let longName: string | undefined
    while (offset + BLOCK <= total) {
      await handle.read(header, 0, BLOCK, offset)
      if (isZero(header)) break
      const fields = parseHeader(header, offset)
      const { size, typeflag: type } = fields
      const dataOffset = offset + BLOCK
      if (dataOffset + size > total) throw bad('it ends inside a member')
      if (type === 'x' || type === 'L') {
        const data = Buffer.alloc(size)
        await handle.read(data, 0, size, dataOffset)
        if (type === 'L') longName = cString(data, offset, 'GNU long name')
        else longName = parsePax(data, offset).get('path') ?? longName
      } else {
        const name = longName ?? fields.name
        longName = undefined
        if (type === '0' || type === '\0' || type === '7')
          members.set(normalize(name), { offset: dataOffset, size })
        // skopeo writes <id>/layer.tar as a symlink to ../<diff id>.tar.
        if (type === '2')
          links.set(normalize(name), normalize(path.posix.join(path.posix.dirname(normalize(name)), fields.linkname)))
      }
      offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK
    }
  } catch (error) {
    if (error instanceof TarFormatError) throw bad(error.message)
    throw error
  } finally {
    await handle.close()
  }
  for (const [link, target] of links) {
    const member = members.get(target)
    if (member && !members.has(link)) members.set(link, member)
  }
  return members
}

/** An archive's members as LayoutFiles; members asked for as files are copied into a folder under `tempDir`. */
async function archiveFiles(
  archive: string,
  tempDir: string,
  name: string
): Promise<LayoutFiles & { members: Map<string, Member> }> {
  const members = await tarMembers(archive)
  let folder: string | undefined
  const read = async (relative: string): Promise<Buffer | undefined> => {
    const member = members.get(normalize(relative))
    if (!member) return undefined
    const handle = await fs.open(archive, 'r')
    try {
      const bytes = Buffer.alloc(member.size)
      await handle.read(bytes, 0, member.size, member.offset)
      return bytes
    } finally {
      await handle.close()
    }
  }
  const file = async (relative: string): Promise<string | undefined> => {
    const member = members.get(normalize(relative))
    if (!member) return undefined
    folder ??= await fs.mkdtemp(path.join(tempDir, 'archive-'))
    const dest = path.join(folder, normalize(relative).replace(/\//g, '_'))
    if (member.size === 0) await fs.writeFile(dest, '')
    else
      await pipeline(
        createReadStream(archive, { start: member.offset, end: member.offset + member.size - 1 }),
        createWriteStream(dest)
      )
    return dest
  }
  return { name, members, read, file }
}

export async function ociArchiveFiles(archive: string, tempDir: string): Promise<LayoutFiles> {
  return archiveFiles(archive, tempDir, `the archive ${archive}`)
}

interface DockerManifestEntry {
  Config?: unknown
  RepoTags?: unknown
  Layers?: unknown
}

const withoutDefaultRegistry = (tag: string): string =>
  tag.replace(/^(docker\.io\/)?(library\/)?/, '')

function layerMediaType(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return MEDIA_TYPES.ociLayerGzip
  if (head.readUInt32LE(0) === 0xfd2fb528) return MEDIA_TYPES.ociLayerZstd
  return MEDIA_TYPES.ociLayerTar
}

/**
 * The image in a `docker save` archive. It has no manifest, so the digest is the
 * config's (docker's image ID) and layer digests are computed from the members.
 */
export async function readDockerArchive(
  archive: string,
  tag: string | undefined,
  want: Platform,
  tempDir: string
): Promise<ResolvedImage> {
  const files = await archiveFiles(archive, tempDir, `the docker archive ${archive}`)
  const fix = 'use the output of docker save (or skopeo copy … docker-archive:FILE).'
  const manifestBytes = await files.read('manifest.json')
  if (!manifestBytes)
    throw new FledgeError(
      `${files.name} has no manifest.json, so it is not a docker save archive.`,
      { fix }
    )
  let entries: DockerManifestEntry[]
  try {
    entries = JSON.parse(manifestBytes.toString('utf8')) as DockerManifestEntry[]
  } catch {
    throw new FledgeError(`${files.name}: manifest.json is not JSON.`, { fix })
  }
  if (!Array.isArray(entries) || entries.length === 0)
    throw new FledgeError(`${files.name}: manifest.json lists no image.`, { fix })
  const tagsOf = (entry: DockerManifestEntry): string[] =>
    Array.isArray(entry.RepoTags)
      ? entry.RepoTags.filter((t): t is string => typeof t === 'string')
      : []
  const allTags = entries.flatMap(tagsOf)
  let entry: DockerManifestEntry | undefined
  if (tag !== undefined) {
    entry = entries.find((e) =>
      tagsOf(e).some((t) => t === tag || withoutDefaultRegistry(t) === withoutDefaultRegistry(tag))
    )
    if (!entry) {
      throw new FledgeError(
        `${files.name} has no image tagged "${tag}"; it has ${allTags.length ? allTags.map((t) => `"${t}"`).join(', ') : 'no tagged images'}.`,
        {
          fix: 'name one of its tags after the file (docker-archive:FILE:NAME:TAG).'
        }
      )
    }
  } else if (entries.length === 1) {
    entry = entries[0]
  } else {
    throw new FledgeError(
      `${files.name} holds ${entries.length} images (${allTags.map((t) => `"${t}"`).join(', ')}), and the reference names none.`,
      {
        fix: 'name the image after the file (docker-archive:FILE:NAME:TAG).'
      }
    )
  }
  if (
    typeof entry!.Config !== 'string' ||
    !Array.isArray(entry!.Layers) ||
    !entry!.Layers.every((l) => typeof l === 'string')
  ) {
    throw new FledgeError(`${files.name}: manifest.json's entry has no Config or Layers.`, { fix })
  }
  const configBytes = await files.read(entry!.Config)
  if (!configBytes)
    throw new FledgeError(
      `${files.name} lacks the config ${entry!.Config} its manifest.json names.`,
      { fix }
    )
  const configDigest = sha256Digest(configBytes)
  checkNamedDigest(entry!.Config, configDigest, 'the config', files.name)
  const config = summarizeConfig(configBytes, `the config ${configDigest} of ${files.name}`)
  if (config.os !== want.os || config.architecture !== want.architecture) {
    throw new FledgeError(
      `${files.name} holds a ${config.os}/${config.architecture} image; this build is for ${want.os}/${want.architecture}.`,
      {
        fix: `save the image's ${want.os}/${want.architecture} variant (docker pull --platform ${want.os}/${want.architecture}, then docker save).`
      }
    )
  }
  const diffIds = (JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } })
    .rootfs?.diff_ids
  const layers: ImageLayer[] = []
  for (const [index, member] of (entry!.Layers as string[]).entries()) {
    const what = `layer ${index + 1} (${member})`
    const file = await files.file(member)
    if (!file)
      throw new FledgeError(`${files.name} lacks ${what}, which its manifest.json names.`, { fix })
    const digest = `sha256:${await sha256File(file)}`
    checkNamedDigest(member, digest, what, files.name)
    const head = Buffer.alloc(4)
    const handle = await fs.open(file, 'r')
    const { size } = await handle.stat()
    await handle.read(head, 0, 4, 0).finally(() => handle.close())
    const mediaType = layerMediaType(head)
    const diffId = Array.isArray(diffIds) ? diffIds[index] : undefined
    // An uncompressed layer's digest is its diff ID: the config vouches for it.
    if (mediaType === MEDIA_TYPES.ociLayerTar && typeof diffId === 'string' && diffId !== digest) {
      throw digestMismatch(what, diffId, digest, files.name)
    }
    layers.push({ digest, mediaType, size, path: file })
  }
  return { digest: configDigest, configDigest, config, layers }
}

/** Members named by their digest (blobs/sha256/<hex> of newer docker save, skopeo's <hex>.tar and <hex>.json) must hash to it. */
function checkNamedDigest(member: string, digest: string, what: string, from: string): void {
  const named =
    /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/.exec(member) ??
    /^([0-9a-f]{64})\.(?:json|tar)$/.exec(member)
  if (named && `sha256:${named[1]}` !== digest)
    throw digestMismatch(what, `sha256:${named[1]}`, digest, from)
}
