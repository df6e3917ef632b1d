/** `Releaser` over GitHub's REST API, with the octokit that @actions/github builds. */
import * as fs from 'node:fs'
import { getOctokit } from '@actions/github'
import {
  ReleaseApiError,
  pickRelease,
  type AssetUpload,
  type NewRelease,
  type Release,
  type ReleaseAsset,
  type ReleaseUpdate,
  type Releaser
} from './releaser.js'

export interface GitHubReleaserOptions {
  token: string
  owner: string
  repo: string
  /** REST API root; defaults to GITHUB_API_URL, then https://api.github.com. */
  baseUrl?: string | undefined
  userAgent?: string | undefined
}

interface AssetJson {
  id: number
  name: string
  state: string
  size: number
  content_type: string
  digest?: string | null | undefined
  browser_download_url: string
}

interface ReleaseJson {
  id: number
  tag_name: string
  name: string | null
  body?: string | null | undefined
  draft: boolean
  prerelease: boolean
  immutable?: boolean | undefined
  html_url: string
  upload_url: string
  assets: AssetJson[]
}

const PAGE_SIZE = 100
/** Bounds paging through a broken or huge listing (10 000 releases). */
const MAX_PAGES = 100

export class GitHubReleaser implements Releaser {
  private readonly octokit: ReturnType<typeof getOctokit>
  private readonly repository: { owner: string; repo: string }

  constructor(options: GitHubReleaserOptions) {
    // @actions/github's octokit has no retry or throttling plugin, so publish.ts is the
    // only layer that retries: an upload is never retried twice over. Passing
    // `request` here would replace the proxy-aware fetch @actions/github installs.
    this.octokit = getOctokit(options.token, {
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
      ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {})
    })
    this.repository = { owner: options.owner, repo: options.repo }
  }

  async findReleaseByTag(tag: string): Promise<Release | undefined> {
    // The by-tag endpoint is one request but never returns drafts (404): then list.
    const published = await this.call(`get the release for tag ${tag}`, async () => {
      try {
        return (await this.octokit.rest.repos.getReleaseByTag({ ...this.repository, tag })).data
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    })
    if (published) return toRelease(published)
    const matches: Release[] = []
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { data } = await this.call(`list releases (page ${page})`, () =>
        this.octokit.rest.repos.listReleases({ ...this.repository, per_page: PAGE_SIZE, page })
      )
      matches.push(...data.filter((r) => r.tag_name === tag).map(toRelease))
      if (data.length < PAGE_SIZE) break
    }
    return pickRelease(matches)
  }

  async getRelease(releaseId: number): Promise<Release> {
    const { data } = await this.call(`get release ${releaseId}`, () =>
      this.octokit.rest.repos.getRelease({ ...this.repository, release_id: releaseId })
    )
    return toRelease(data)
  }

  async latestRelease(): Promise<Release | undefined> {
    const data = await this.call('get the latest release', async () => {
      try {
        return (await this.octokit.rest.repos.getLatestRelease({ ...this.repository })).data
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    })
    return data ? toRelease(data) : undefined
  }

  async createRelease(release: NewRelease): Promise<Release> {
    const { data } = await this.call(`create the release for tag ${release.tagName}`, () =>
      this.octokit.rest.repos.createRelease({
        ...this.repository,
        tag_name: release.tagName,
        draft: release.draft,
        ...(release.name !== undefined ? { name: release.name } : {}),
        ...(release.body !== undefined ? { body: release.body } : {}),
        ...(release.prerelease !== undefined ? { prerelease: release.prerelease } : {}),
        ...(release.targetCommitish !== undefined
          ? { target_commitish: release.targetCommitish }
          : {})
      })
    )
    return toRelease(data)
  }

  async generateNotes(tag: string, targetCommitish?: string | undefined): Promise<string> {
    const { data } = await this.call(`generate release notes for ${tag}`, () =>
      this.octokit.rest.repos.generateReleaseNotes({
        ...this.repository,
        tag_name: tag,
        ...(targetCommitish !== undefined ? { target_commitish: targetCommitish } : {})
      })
    )
    return data.body
  }

  async updateRelease(releaseId: number, update: ReleaseUpdate): Promise<Release> {
    const { data } = await this.call(`update release ${releaseId}`, () =>
      this.octokit.rest.repos.updateRelease({
        ...this.repository,
        release_id: releaseId,
        ...(update.name !== undefined ? { name: update.name } : {}),
        ...(update.body !== undefined ? { body: update.body } : {}),
        ...(update.draft !== undefined ? { draft: update.draft } : {}),
        ...(update.prerelease !== undefined ? { prerelease: update.prerelease } : {}),
        ...(update.makeLatest !== undefined ? { make_latest: update.makeLatest } : {})
      })
    )
    return toRelease(data)
  }

  /** Resolves once the release is gone (already gone counts). */
  async deleteRelease(releaseId: number): Promise<void> {
    await this.call(`delete release ${releaseId}`, () =>
      ignoreNotFound(
        this.octokit.rest.repos.deleteRelease({ ...this.repository, release_id: releaseId })
      )
    )
  }

  async listAssets(releaseId: number): Promise<ReleaseAsset[]> {
    const assets: ReleaseAsset[] = []
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { data } = await this.call(`list the assets of release ${releaseId}`, () =>
        this.octokit.rest.repos.listReleaseAssets({
          ...this.repository,
          release_id: releaseId,
          per_page: PAGE_SIZE,
          page
        })
      )
      assets.push(...data.map(toAsset))
      if (data.length < PAGE_SIZE) break
    }
    return assets
  }

  /** Resolves once the asset is gone (already gone counts). */
  async deleteAsset(assetId: number): Promise<void> {
    await this.call(`delete asset ${assetId}`, () =>
      ignoreNotFound(
        this.octokit.rest.repos.deleteReleaseAsset({ ...this.repository, asset_id: assetId })
      )
    )
  }

  async uploadAsset(
    release: Pick<Release, 'id' | 'uploadUrl'>,
    upload: AssetUpload
  ): Promise<ReleaseAsset> {
    const body = fs.createReadStream(upload.filePath)
    try {
      // Uploads go to `upload_url` (uploads.github.com), not the API root; octokit
      // expands its `{?name,label}` template. GitHub requires Content-Length.
      const response = await this.octokit.request({
        method: 'POST',
        url: release.uploadUrl,
        name: upload.name,
        ...(upload.label !== undefined ? { label: upload.label } : {}),
        headers: { 'content-type': upload.contentType, 'content-length': upload.size },
        data: body,
        ...(upload.signal ? { request: { signal: upload.signal } } : {})
      })
      if (!isAssetJson(response.data)) {
        throw new ReleaseApiError(
          `upload ${upload.name}: GitHub answered ${response.status} without an asset`,
          {
            status: response.status
          }
        )
      }
      return toAsset(response.data)
    } catch (error) {
      if (upload.signal?.aborted) {
        throw new ReleaseApiError(`upload ${upload.name}: timed out`, { timedOut: true })
      }
      throw toApiError(error, `upload ${upload.name}`)
    } finally {
      body.destroy()
    }
  }

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw toApiError(error, action)
    }
  }
}

async function ignoreNotFound(request: Promise<unknown>): Promise<void> {
  try {
    await request
  } catch (error) {
    if (statusOf(error) !== 404) throw error
  }
}

function toRelease(data: ReleaseJson): Release {
  return {
    id: data.id,
    tagName: data.tag_name,
    name: data.name,
    body: data.body ?? null,
    draft: data.draft,
    prerelease: data.prerelease,
    immutable: data.immutable === true,
    htmlUrl: data.html_url,
    uploadUrl: data.upload_url,
    assets: data.assets.map(toAsset)
  }
}

function toAsset(data: AssetJson): ReleaseAsset {
  return {
    id: data.id,
    name: data.name,
    state: data.state,
    size: data.size,
    contentType: data.content_type,
    digest: data.digest ?? null,
    browserDownloadUrl: data.browser_download_url
  }
}

function isAssetJson(data: unknown): data is AssetJson {
  const record = data as Record<string, unknown> | null
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record['id'] === 'number' &&
    typeof record['name'] === 'string' &&
    typeof record['browser_download_url'] === 'string'
  )
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? status : undefined
}

/**
 * octokit's RequestError, as a ReleaseApiError. octokit reports a network failure
 * (reset, refused) as status 500 with no `response`: that is not an HTTP 500.
 */
export function toApiError(error: unknown, action: string): ReleaseApiError {
  if (error instanceof ReleaseApiError) return error
  const failure = (error ?? {}) as {
    name?: string
    message?: string
    response?: { status?: number; headers?: Record<string, unknown>; data?: unknown }
  }
  if (failure.name === 'AbortError' || failure.name === 'TimeoutError') {
    return new ReleaseApiError(`${action}: timed out`, { timedOut: true })
  }
  const response = failure.response
  if (!response) {
    return new ReleaseApiError(`${action}: ${failure.message ?? String(error)}`)
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value)
  }
  const data = (response.data ?? {}) as { message?: unknown; errors?: unknown }
  const codes = Array.isArray(data.errors)
    ? data.errors.flatMap((e: unknown) => {
        const code = (e as { code?: unknown } | null)?.code
        return typeof code === 'string' ? [code] : []
      })
    : []
  const status = response.status ?? statusOf(error)
  const message =
    typeof data.message === 'string' ? data.message : (failure.message ?? 'request failed')
  return new ReleaseApiError(
    `${action}: ${status} ${message}${codes.length ? ` (${codes.join(', ')})` : ''}`,
    {
      status,
      headers,
      codes
    }
  )
}
