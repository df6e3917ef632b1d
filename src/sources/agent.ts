import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { AGENT_ASSET, type AgentSource } from '../config/types.js'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import type { SourceContext } from './busybox.js'
import * as path from 'node:path'
import { fetchAndStore, findVerified, makeTempDir, type CachedFile, type CacheSlot } from './cache.js'
import { downloadFile, getJson } from './http.js'
import type { ResolvedFile } from './types.js'

export interface ResolvedAgent extends ResolvedFile {
  strategy: AgentSource['strategy']
  /** The concrete release tag ("latest" resolved), release strategy only. */
  tag?: string
  url?: string
}

/** GitHub's API for release lookups: GITHUB_API_URL (read, never written), else github.com's. */
export function githubApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env['GITHUB_API_URL'] || 'https://api.github.com'
}

export interface AgentContext extends SourceContext {
  /** GitHub API base (GITHUB_API_URL). */
  apiUrl: string
  token?: string | undefined
}

export async function resolveAgent(source: AgentSource, context: AgentContext): Promise<ResolvedAgent> {
  switch (source.strategy) {
    case 'local':
      return resolveLocal(source.path)
    case 'http':
      return resolveHttp(source.url, source.sha256, context)
    case 'release':
      return resolveRelease(source.repository, source.version, context)
  }
}

async function resolveLocal(file: string): Promise<ResolvedAgent> {
  const stat = await fs.stat(file).catch(() => undefined)
  if (!stat?.isFile()) {
    throw new FledgeError(`agent file not found: ${file}.`, {
      key: 'agent.path',
      fix: 'agent.path is relative to the folder of fledge.toml; point it at the kestrel binary.'
    })
  }
  return { strategy: 'local', path: file, size: stat.size, sha256: await sha256File(file), cacheHit: false }
}

const httpSlot = (sha256: string): CacheSlot => ({ tool: 'fledge-agent', key: `sha256-${sha256}`, file: AGENT_ASSET, what: 'agent' })

async function resolveHttp(
  url: string,
  sha256: string | undefined,
  context: SourceContext
): Promise<ResolvedAgent> {
  if (sha256 && context.useCache) {
    const hit = await findVerified(httpSlot(sha256), sha256, context.log)
    if (hit) return { strategy: 'http', url, ...hit, cacheHit: true }
  }
  context.log.info(`Downloading the agent from ${url}`)
  const fetched = await fetchAndStore(
    AGENT_ASSET,
    context.useCache,
    (dest) => downloadFile(url, dest, { sha256, what: 'the agent' }, context.network, context.log),
    httpSlot,
    context.log
  )
  if (!sha256) {
    context.log.warn(`[agent] has no checksum, so the download was not verified. Pin it: checksum = "sha256:${fetched.sha256}"`)
  }
  return { strategy: 'http', url, ...fetched, cacheHit: false }
}

interface ReleaseAsset {
  id: number
  name: string
  url: string
  browser_download_url: string
  digest?: string | null
  size: number
}

async function resolveRelease(repository: string, version: string, context: AgentContext): Promise<ResolvedAgent> {
  const found = await resolveReleaseAsset(
    { repository, version, asset: AGENT_ASSET, what: 'the agent', configKey: 'agent.version', missingFix: 'pick a release that ships the kestrel binary, or use source_strategy = "http" or "local".' },
    context
  )
  return { strategy: 'release', ...found }
}

export interface ReleaseAssetRequest {
  repository: string
  /** A tag, or "latest". */
  version: string
  /** The asset's exact name ("kestrel", "bzImage"). */
  asset: string
  /** For messages: "the agent", "Volant's kernel". */
  what: string
  /** The setting errors point at ("agent.version", "kernel"). */
  configKey: string
  missingFix: string
  /** Checks the downloaded file before it is cached (e.g. against a published .sha256). */
  verify?: (release: ReleaseInfo, file: string, sha256: string) => Promise<void>
}

export interface ReleaseInfo {
  tag_name: string
  assets: ReleaseAsset[]
}

/**
 * An asset of a GitHub release, verified against the digest GitHub reports and cached by tag.
 * A concrete tag is looked up in the cache before any request; "latest" costs one API call to
 * learn which tag it is today. The cache entry records the sha256 the download was verified
 * with, and every use is checked against it.
 */
export async function resolveReleaseAsset(
  request: ReleaseAssetRequest,
  context: AgentContext
): Promise<CachedFile & { tag: string; cacheHit: boolean }> {
  const { repository, version, asset: name } = request
  const slot = (tag: string): CacheSlot => ({
    tool: name === AGENT_ASSET ? 'fledge-agent-release' : `fledge-release-${name.toLowerCase()}`,
    key: `tag-${createHash('sha256').update(`${repository}@${tag}`).digest('hex').slice(0, 40)}`,
    file: name,
    what: `${name} of ${repository}@${tag}`
  })
  const fromCache = async (tag: string) => {
    if (!context.useCache) return undefined
    const hit = await findVerified(slot(tag), undefined, context.log)
    return hit ? { tag, ...hit, cacheHit: true } : undefined
  }
  if (version !== 'latest') {
    const hit = await fromCache(version)
    if (hit) return hit
  }
  const release = await fetchRelease(repository, version, context, request.configKey)
  if (version === 'latest') {
    context.log.info(`Release "latest" of ${repository} is ${release.tag_name}`)
    const hit = await fromCache(release.tag_name)
    if (hit) return hit
  }
  const asset = release.assets.find((a) => a.name === name)
  if (!asset) {
    throw new FledgeError(
      `release ${release.tag_name} of ${repository} has no asset named "${name}" (it has: ${release.assets.map((a) => a.name).join(', ') || 'no assets'}).`,
      { key: request.configKey, fix: request.missingFix }
    )
  }
  const digest = asset.digest?.replace(/^sha256:/, '').toLowerCase()
  if (!digest) {
    context.log.warn(`GitHub reports no digest for ${repository}@${release.tag_name}/${name}; the download cannot be verified.`)
  }
  context.log.info(`Downloading ${request.what} ${repository}@${release.tag_name}`)
  const fetched = await fetchAndStore(
    name,
    context.useCache,
    async (dest) => {
      // The API asset URL with an octet-stream Accept works for public and private
      // repositories; the token is dropped when GitHub redirects to its storage host.
      const result = await downloadFile(
        asset.url,
        dest,
        { headers: { ...apiHeaders(context.token), accept: 'application/octet-stream' }, sha256: digest, what: `${request.what} (${release.tag_name})` },
        context.network,
        context.log
      )
      await request.verify?.(release, dest, result.sha256)
      return result
    },
    () => slot(release.tag_name),
    context.log
  )
  return { tag: release.tag_name, ...fetched, cacheHit: false }
}

/** The text of a small release asset (a .sha256 file). */
export async function releaseAssetText(release: ReleaseInfo, name: string, context: AgentContext): Promise<string | undefined> {
  const asset = release.assets.find((a) => a.name === name)
  if (!asset) return undefined
  const dir = await makeTempDir('release-asset')
  try {
    const file = path.join(dir, 'asset')
    await downloadFile(
      asset.url,
      file,
      { headers: { ...apiHeaders(context.token), accept: 'application/octet-stream' }, what: `${name} (${release.tag_name})` },
      context.network,
      context.log
    )
    return await fs.readFile(file, 'utf8')
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

async function fetchRelease(repository: string, version: string, context: AgentContext, configKey: string): Promise<ReleaseInfo> {
  const base = context.apiUrl.replace(/\/+$/, '')
  const url =
    version === 'latest'
      ? `${base}/repos/${repository}/releases/latest`
      : `${base}/repos/${repository}/releases/tags/${encodeURIComponent(version)}`
  let response
  try {
    response = await getJson<ReleaseInfo>(url, apiHeaders(context.token), context.network, context.log)
  } catch (error) {
    if (error instanceof FledgeError) throw new FledgeError(error.message, { key: configKey, fix: error.fix })
    throw new FledgeError(`could not look up the release at ${url}: ${(error as Error).message}.`, {
      key: configKey,
      fix: 'check the network; set GITHUB_TOKEN (input `token`) to avoid GitHub API rate limits.'
    })
  }
  if (!response.body) {
    throw new FledgeError(`${repository} has no release ${version === 'latest' ? '(latest)' : JSON.stringify(version)}.`, {
      key: configKey,
      fix: 'use an existing release tag, or "latest".'
    })
  }
  return response.body
}

function apiHeaders(token: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28'
  }
  if (token) headers['authorization'] = `Bearer ${token}`
  return headers
}
