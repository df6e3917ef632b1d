/** The fake GitHub's in-memory releases and assets, with GitHub's rules for tags and "latest". */
import { createHash } from 'node:crypto'

export type AssetState = 'uploaded' | 'starter'
export type MakeLatest = 'true' | 'false' | 'legacy'

export interface StoredAsset {
  id: number
  name: string
  label: string | null
  contentType: string
  state: AssetState
  data: Buffer
  /** What GitHub reports: `sha256:<hex>` of the data, or null (older assets have none). */
  digest: string | null
  createdAt: string
  updatedAt: string
}

export interface StoredRelease {
  id: number
  owner: string
  repo: string
  tagName: string
  targetCommitish: string
  name: string | null
  body: string | null
  draft: boolean
  prerelease: boolean
  /** Set on publishing when the repository has immutable releases turned on. */
  immutable: boolean
  createdAt: string
  updatedAt: string
  publishedAt: string | null
  assets: StoredAsset[]
  /** Drafts have no tag yet: GitHub serves them under `untagged-<hex>` URLs. */
  untaggedName: string
}

export interface ReleaseFields {
  tagName?: string
  targetCommitish?: string
  name?: string | null
  body?: string | null
  draft?: boolean
  prerelease?: boolean
  makeLatest?: MakeLatest
}

export interface NewAsset {
  name: string
  label?: string | null
  contentType?: string
  data: Buffer
  state?: AssetState
  digest?: string | null
}

export const sha256Digest = (data: Buffer): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`

interface Repository {
  releases: StoredRelease[]
  /** Set by `make_latest: true`; otherwise "latest" is the newest published full release. */
  latestId: number | undefined
  /** Published with `make_latest: false`: never picked as latest by date. */
  notLatest: Set<number>
}

export class ReleaseStore {
  /** `immutableReleases`: the repository setting; releases become immutable on publishing. */
  constructor(
    private readonly options: { immutableReleases: boolean } = { immutableReleases: false }
  ) {}

  private nextId = 1000
  private tick = 0
  private readonly repositories = new Map<string, Repository>()

  /** GitHub's timestamp format; strictly increasing so "newest" is well defined. */
  timestamp(): string {
    this.tick += 1
    return new Date(Date.UTC(2026, 0, 1) + this.tick * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }

  /** Newest first, as GitHub lists them. */
  releases(owner: string, repo: string): StoredRelease[] {
    return [...this.repository(owner, repo).releases].sort((a, b) => b.id - a.id)
  }

  release(owner: string, repo: string, id: number): StoredRelease | undefined {
    return this.repository(owner, repo).releases.find((r) => r.id === id)
  }

  publishedByTag(owner: string, repo: string, tag: string): StoredRelease | undefined {
    return this.releases(owner, repo).find((r) => r.tagName === tag && !r.draft)
  }

  latest(owner: string, repo: string): StoredRelease | undefined {
    const repository = this.repository(owner, repo)
    const eligible = this.releases(owner, repo).filter((r) => !r.draft && !r.prerelease)
    return (
      eligible.find((r) => r.id === repository.latestId) ??
      eligible.find((r) => !repository.notLatest.has(r.id))
    )
  }

  createRelease(
    owner: string,
    repo: string,
    fields: ReleaseFields & { tagName: string }
  ): StoredRelease {
    const now = this.timestamp()
    const id = this.nextId++
    const release: StoredRelease = {
      id,
      owner,
      repo,
      tagName: fields.tagName,
      targetCommitish: fields.targetCommitish ?? 'main',
      name: fields.name ?? null,
      body: fields.body ?? null,
      draft: fields.draft ?? false,
      prerelease: fields.prerelease ?? false,
      immutable: !fields.draft && this.options.immutableReleases,
      createdAt: now,
      updatedAt: now,
      publishedAt: fields.draft ? null : now,
      assets: [],
      untaggedName: `untagged-${createHash('sha1').update(String(id)).digest('hex').slice(0, 20)}`
    }
    this.repository(owner, repo).releases.push(release)
    this.applyMakeLatest(release, fields.makeLatest ?? (release.draft ? undefined : 'true'))
    return release
  }

  updateRelease(release: StoredRelease, fields: ReleaseFields): void {
    const publishing = release.draft && fields.draft === false
    if (fields.tagName !== undefined) release.tagName = fields.tagName
    if (fields.targetCommitish !== undefined) release.targetCommitish = fields.targetCommitish
    if (fields.name !== undefined) release.name = fields.name
    if (fields.body !== undefined) release.body = fields.body
    if (fields.prerelease !== undefined) release.prerelease = fields.prerelease
    if (fields.draft !== undefined) release.draft = fields.draft
    release.updatedAt = this.timestamp()
    if (publishing) {
      release.publishedAt = release.updatedAt
      release.immutable = this.options.immutableReleases
    }
    if (release.draft) release.publishedAt = null
    this.applyMakeLatest(release, fields.makeLatest ?? (publishing ? 'true' : undefined))
  }

  deleteRelease(owner: string, repo: string, id: number): boolean {
    const repository = this.repository(owner, repo)
    const before = repository.releases.length
    repository.releases = repository.releases.filter((r) => r.id !== id)
    return repository.releases.length < before
  }

  addAsset(release: StoredRelease, asset: NewAsset): StoredAsset {
    const now = this.timestamp()
    const stored: StoredAsset = {
      id: this.nextId++,
      name: asset.name,
      label: asset.label ?? null,
      contentType: asset.contentType ?? 'application/octet-stream',
      state: asset.state ?? 'uploaded',
      data: asset.data,
      digest: asset.digest === undefined ? sha256Digest(asset.data) : asset.digest,
      createdAt: now,
      updatedAt: now
    }
    release.assets.push(stored)
    return stored
  }

  findAsset(
    owner: string,
    repo: string,
    assetId: number
  ): { release: StoredRelease; asset: StoredAsset } | undefined {
    for (const release of this.repository(owner, repo).releases) {
      const asset = release.assets.find((a) => a.id === assetId)
      if (asset) return { release, asset }
    }
    return undefined
  }

  deleteAsset(owner: string, repo: string, assetId: number): boolean {
    const found = this.findAsset(owner, repo, assetId)
    if (!found) return false
    found.release.assets = found.release.assets.filter((a) => a.id !== assetId)
    return true
  }

  private applyMakeLatest(release: StoredRelease, makeLatest: MakeLatest | undefined): void {
    const repository = this.repository(release.owner, release.repo)
    if (makeLatest === 'true' && !release.draft && !release.prerelease) {
      repository.latestId = release.id
      repository.notLatest.delete(release.id)
    } else if (makeLatest === 'false') {
      repository.notLatest.add(release.id)
      if (repository.latestId === release.id) repository.latestId = undefined
    } else if (makeLatest === 'legacy') {
      repository.latestId = undefined
      repository.notLatest.delete(release.id)
    }
  }

  private repository(owner: string, repo: string): Repository {
    // GitHub owner and repository names are case-insensitive.
    const key = `${owner}/${repo}`.toLowerCase()
    let repository = this.repositories.get(key)
    if (!repository) {
      repository = { releases: [], latestId: undefined, notLatest: new Set() }
      this.repositories.set(key, repository)
    }
    return repository
  }
}
