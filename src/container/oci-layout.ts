/**
 * OCI image layouts (`oci-layout:PATH[:TAG]`): the `oci-layout` marker, index.json
 * and blobs/<alg>/<hex>, read from a folder or, through the same interface, from
 * the members of an oci-archive. Every blob is verified against its digest.
 */
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import { digestHex, digestMismatch, sha256Digest } from './blob-cache.js'
import {
  resolveImage,
  type BlobSource,
  type Descriptor,
  type Platform,
  type ResolvedImage
} from './manifest.js'

/** A layout's files: a folder's, or an archive's members. */
export interface LayoutFiles {
  /** For messages: "the layout /abs/dir", "the archive /abs/img.tar". */
  name: string
  /** The file's bytes, or undefined when there is no such file. */
  read(relative: string): Promise<Buffer | undefined>
  /** A local path holding the file (in place, or extracted to the temp folder), or undefined. */
  file(relative: string): Promise<string | undefined>
}

export function layoutFolder(dir: string): LayoutFiles {
  const name = `the layout ${dir}`
  const inside = (relative: string): string => path.join(dir, ...relative.split('/'))
  return {
    name,
    read: async (relative) => {
      try {
        return await fs.readFile(inside(relative))
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
        throw new FledgeError(`cannot read ${inside(relative)} (${code ?? String(error)}).`, {
          fix: 'check the file and its permissions.'
        })
      }
    },
    file: async (relative) =>
      (await fs.stat(inside(relative)).then(
        (s) => s.isFile(),
        () => false
      ))
        ? inside(relative)
        : undefined
  }
}

const layoutFix = (files: LayoutFiles): string =>
  `point at an OCI image layout (skopeo copy … oci:DIR:TAG, or docker buildx build --output type=oci), not at ${files.name.replace(/^the \w+ /, '')}.`

/** The image in `files` (tagged `tag`, or its only image) for `want`. */
export async function readLayout(
  files: LayoutFiles,
  tag: string | undefined,
  want: Platform
): Promise<ResolvedImage> {
  const marker = await files.read('oci-layout')
  if (!marker) {
    throw new FledgeError(
      `${files.name} has no oci-layout file, so it is not an OCI image layout.`,
      { fix: layoutFix(files) }
    )
  }
  const indexBytes = await files.read('index.json')
  if (!indexBytes)
    throw new FledgeError(`${files.name} has no index.json.`, { fix: layoutFix(files) })
  let index: { manifests?: Descriptor[] }
  try {
    index = JSON.parse(indexBytes.toString('utf8')) as typeof index
  } catch {
    throw new FledgeError(`${files.name}: index.json is not JSON.`, { fix: layoutFix(files) })
  }
  const entries = Array.isArray(index.manifests) ? index.manifests : []
  const tagOf = (d: Descriptor): string | undefined =>
    d.annotations?.['org.opencontainers.image.ref.name']
  const tags = entries.map(tagOf).filter((t): t is string => t !== undefined)
  let chosen: Descriptor | undefined
  if (tag !== undefined) {
    chosen = entries.find((d) => tagOf(d) === tag)
    if (!chosen) {
      throw new FledgeError(
        `${files.name} has no image tagged "${tag}"; it has ${tags.length ? tags.map((t) => `"${t}"`).join(', ') : 'no tagged images'}.`,
        {
          fix: 'name one of its tags after the path (oci-layout:PATH:TAG).'
        }
      )
    }
  } else if (entries.length === 1) {
    chosen = entries[0]
  } else {
    throw new FledgeError(
      `${files.name} holds ${entries.length} images${tags.length ? ` (tagged ${tags.map((t) => `"${t}"`).join(', ')})` : ''}, and the reference names none.`,
      {
        fix: entries.length
          ? 'name the image by its tag after the path (oci-layout:PATH:TAG).'
          : layoutFix(files)
      }
    )
  }
  const source = layoutBlobs(files)
  const top = await source.manifest(chosen!.digest)
  return resolveImage({ digest: chosen!.digest, ...top }, source, want)
}

function layoutBlobs(files: LayoutFiles): BlobSource {
  const blobPath = (digest: string, what: string): string =>
    `blobs/sha256/${digestHex(digest, what)}`
  const missing = (digest: string, what: string): FledgeError =>
    new FledgeError(`${files.name} lacks ${what} (${blobPath(digest, what)}).`, {
      fix: 'the layout is incomplete; copy the image into it again (skopeo copy, or docker buildx build --output type=oci).'
    })
  return {
    name: files.name,
    async manifest(digest) {
      const what = `the manifest ${digest}`
      const bytes = await files.read(blobPath(digest, what))
      if (!bytes) throw missing(digest, what)
      const actual = sha256Digest(bytes)
      if (actual !== digest) throw digestMismatch('the manifest', digest, actual, files.name)
      return { bytes }
    },
    async blob(descriptor, what) {
      const file = await files.file(blobPath(descriptor.digest, what))
      if (!file) throw missing(descriptor.digest, what)
      const actual = `sha256:${await sha256File(file)}`
      if (actual !== descriptor.digest)
        throw digestMismatch(what, descriptor.digest, actual, files.name)
      return file
    }
  }
}
