/**
 * What the publish logic needs from GitHub Releases, as an interface so it can be
 * faked. `GitHubReleaser` (./github-releaser.ts) is the real implementation.
 */

export type MakeLatest = 'true' | 'false' | 'legacy'

export interface ReleaseAsset {
  id: number
  /** The name GitHub stored (it renames unusual characters). */
  name: string
  /** 'uploaded'; 'starter' for what a broken-off upload left behind. */
  state: string
  size: number
  contentType: string
  /** `sha256:<hex>` as computed by GitHub, or null when it reports none. */
  digest: string | null
  browserDownloadUrl: string
}

export interface Release {
  id: number
  tagName: string
  name: string | null
  body: string | null
  draft: boolean
  prerelease: boolean
  /** A published immutable release: its assets can no longer be changed. */
  immutable: boolean
  htmlUrl: string
  /** GitHub's URL template for uploads, e.g. `https://uploads.github.com/…/assets{?name,label}`. */
  uploadUrl: string
  assets: ReleaseAsset[]
}

export interface NewRelease {
  tagName: string
  name?: string | undefined
  body?: string | undefined
  draft: boolean
  prerelease?: boolean | undefined
  targetCommitish?: string | undefined
}

export interface ReleaseUpdate {
  name?: string | undefined
  body?: string | undefined
  draft?: boolean | undefined
  prerelease?: boolean | undefined
  makeLatest?: MakeLatest | undefined
}

export interface AssetUpload {
  /** Streamed from disk, never read whole into memory. */
  filePath: string
  size: number
  name: string
  contentType: string
  label?: string | undefined
  /** Aborts the upload (the per-upload deadline). */
  signal?: AbortSignal | undefined
}

export interface Releaser {
  /**
   * The release for `tag`, drafts included (GitHub's by-tag endpoint hides drafts).
   * When several share the tag (GitHub lets drafts do that), the one `pickRelease` chooses.
   */
  findReleaseByTag(tag: string): Promise<Release | undefined>
  /** The release with this id (a `release` event's), drafts included. */
  getRelease(releaseId: number): Promise<Release>
  /** The repository's "Latest" release, if it has one. */
  latestRelease(): Promise<Release | undefined>
  createRelease(release: NewRelease): Promise<Release>
  /** GitHub's generated release notes (Markdown) for `tag`, against the previous release. */
  generateNotes(tag: string, targetCommitish?: string | undefined): Promise<string>
  updateRelease(releaseId: number, update: ReleaseUpdate): Promise<Release>
  deleteRelease(releaseId: number): Promise<void>
  listAssets(releaseId: number): Promise<ReleaseAsset[]>
  deleteAsset(assetId: number): Promise<void>
  uploadAsset(
    release: Pick<Release, 'id' | 'uploadUrl'>,
    upload: AssetUpload
  ): Promise<ReleaseAsset>
}

/**
 * A failed call. `status` is undefined when no HTTP response came back
 * (connection reset, refused, timed out).
 */
export class ReleaseApiError extends Error {
  readonly status: number | undefined
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  /** GitHub's validation error codes, e.g. `already_exists`. */
  readonly codes: readonly string[]
  readonly timedOut: boolean

  constructor(
    message: string,
    details: {
      status?: number | undefined
      headers?: Record<string, string>
      codes?: string[]
      timedOut?: boolean
    } = {}
  ) {
    super(message)
    this.name = 'ReleaseApiError'
    this.status = details.status
    this.headers = details.headers ?? {}
    this.codes = details.codes ?? []
    this.timedOut = details.timedOut ?? false
  }
}

/**
 * Of several releases for one tag, the one everybody settles on: a published release
 * if there is one, else the oldest draft (lowest id), so racing jobs agree.
 */
export function pickRelease(candidates: readonly Release[]): Release | undefined {
  const published = candidates.filter((r) => !r.draft)
  const pool = published.length > 0 ? published : candidates
  return [...pool].sort((a, b) => a.id - b.id)[0]
}
