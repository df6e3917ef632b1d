/**
 * fledge.toml's `[source] image`, parsed: a registry reference (docker's rules for
 * the default registry and `library/`) or a skopeo-style local transport.
 */
import * as path from 'node:path'
import { FledgeError, type ErrorLocation } from '../errors.js'

export interface RegistryReference {
  kind: 'registry'
  /** host[:port] as written (docker.io for the default registry). */
  registry: string
  /** The host[:port] the API is reached at (registry-1.docker.io for docker.io). */
  apiHost: string
  scheme: 'https' | 'http'
  repository: string
  tag?: string
  /** "sha256:<hex>" when the reference is pinned. */
  digest?: string
}

export interface LocalReference {
  kind: 'oci-layout' | 'oci-archive' | 'docker-archive'
  /** Absolute. */
  path: string
  /** oci-layout/oci-archive: the ref.name annotation; docker-archive: a RepoTags entry. */
  tag?: string
}

export type ImageReference = RegistryReference | LocalReference

export const DOCKER_HUB = 'docker.io'
const DOCKER_HUB_API = 'registry-1.docker.io'
const DIGEST = /^sha256:[0-9a-f]{64}$/
const TAG = /^[\w][\w.-]{0,127}$/
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/

/** Loopback registries are reached over plain HTTP, as docker does. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

/** `reference` as written in fledge.toml; local paths are resolved against `baseDir` (fledge.toml's folder). */
export function parseReference(
  reference: string,
  baseDir: string,
  where: ErrorLocation = {}
): ImageReference {
  const bad = (cause: string, fix: string): FledgeError =>
    new FledgeError(`"${reference}" ${cause}.`, { ...where, fix })
  const local = /^(oci-layout|oci-archive|docker-archive):(.*)$/.exec(reference)
  if (local) {
    const kind = local[1] as LocalReference['kind']
    let file = local[2]!
    let tag: string | undefined
    // oci-layout/oci-archive PATH[:TAG]: the last colon is the tag's when what follows has no slash.
    // docker-archive FILE[:NAME:TAG]: the colon before a name:tag.
    const colon =
      kind === 'docker-archive'
        ? file.search(/:(?=[a-z0-9][^:]*:[\w][\w.-]*$)/)
        : file.lastIndexOf(':')
    if (colon > 0 && (kind === 'docker-archive' || !file.slice(colon + 1).includes('/'))) {
      tag = file.slice(colon + 1)
      file = file.slice(0, colon)
    }
    if (!file)
      throw bad(
        `names no ${kind === 'oci-layout' ? 'folder' : 'file'}`,
        `write ${kind}:PATH (relative to fledge.toml's folder).`
      )
    if (tag === '')
      throw bad(
        'ends with an empty tag',
        `drop the trailing colon or name the tag: ${kind}:${file}:TAG.`
      )
    return { kind, path: path.resolve(baseDir, file), ...(tag !== undefined ? { tag } : {}) }
  }
  if (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ||
    /^(docker|oci|containers-storage|dir):/.test(reference)
  ) {
    throw bad(
      'is not a reference fledge can use',
      'write a registry reference (alpine:3.20, ghcr.io/owner/app:1.0, host:5000/x/y@sha256:…) or oci-layout:PATH, oci-archive:FILE, docker-archive:FILE.'
    )
  }
  let rest = reference
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) {
      throw bad(
        `has a malformed digest "${digest}"`,
        'pin with @sha256: followed by 64 lowercase hex digits.'
      )
    }
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const tagColon = rest.indexOf(':', lastSlash + 1)
  if (tagColon >= 0) {
    tag = rest.slice(tagColon + 1)
    rest = rest.slice(0, tagColon)
    if (!TAG.test(tag))
      throw bad(
        `has an invalid tag "${tag}"`,
        'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".'
      )
  }
  const parts = rest.split('/')
  let registry = DOCKER_HUB
  const first = parts[0]!
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  ) {
    registry = first
    parts.shift()
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library')
  const repository = parts.join('/')
  if (!parts.every((part) => PATH_COMPONENT.test(part))) {
    throw bad(
      `has an invalid repository name "${repository}"`,
      'repository names are lowercase letters, digits and separators (".", "_", "-"), like ghcr.io/owner/app:1.0.'
    )
  }
  if (tag === undefined && digest === undefined) tag = 'latest'
  return {
    kind: 'registry',
    registry,
    apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API : registry,
    scheme: isLoopbackHost(registry) ? 'http' : 'https',
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {})
  }
}

/** "registry:127.0.0.1:5000/x/y", "oci-layout:/abs/path": where the image came from, canonical. */
export function originOf(reference: ImageReference): string {
  return reference.kind === 'registry'
    ? `registry:${reference.registry}/${reference.repository}`
    : `${reference.kind}:${reference.path}`
}

/** The reference to write in fledge.toml to pin `digest`. */
export function pinnedReference(reference: RegistryReference, digest: string): string {
  const name =
    reference.registry === DOCKER_HUB
      ? reference.repository.replace(/^library\//, '')
      : `${reference.registry}/${reference.repository}`
  return `${name}${reference.tag ? `:${reference.tag}` : ''}@${digest}`
}
