/** Stored releases and assets rendered the way GitHub's REST API renders them. */
import type { StoredAsset, StoredRelease } from './github-store.js'

/** Where the fake's three GitHub hosts live (api.github.com, uploads.github.com, github.com). */
export interface FakeHosts {
  api: string
  uploads: string
  web: string
}

export const DOCS = 'https://docs.github.com/rest/releases'

const repoPath = (r: StoredRelease): string => `repos/${r.owner}/${r.repo}`

/** A draft has no tag yet: GitHub serves its pages and downloads under `untagged-<hex>`. */
export const releaseTagInUrls = (r: StoredRelease): string => (r.draft ? r.untaggedName : r.tagName)

export function userJson(hosts: FakeHosts): Record<string, unknown> {
  const user = `${hosts.api}/users/github-actions%5Bbot%5D`
  return {
    login: 'github-actions[bot]',
    id: 41898282,
    node_id: 'MDM6Qm90NDE4OTgyODI=',
    avatar_url: `${hosts.web}/avatars/41898282`,
    gravatar_id: '',
    url: user,
    html_url: `${hosts.web}/apps/github-actions`,
    followers_url: `${user}/followers`,
    following_url: `${user}/following{/other_user}`,
    gists_url: `${user}/gists{/gist_id}`,
    starred_url: `${user}/starred{/owner}{/repo}`,
    subscriptions_url: `${user}/subscriptions`,
    organizations_url: `${user}/orgs`,
    repos_url: `${user}/repos`,
    events_url: `${user}/events{/privacy}`,
    received_events_url: `${user}/received_events`,
    type: 'Bot',
    user_view_type: 'public',
    site_admin: false
  }
}

export function assetJson(
  release: StoredRelease,
  asset: StoredAsset,
  hosts: FakeHosts
): Record<string, unknown> {
  return {
    url: `${hosts.api}/${repoPath(release)}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: `RA_kwDO${asset.id}`,
    name: asset.name,
    label: asset.label,
    uploader: userJson(hosts),
    content_type: asset.contentType,
    state: asset.state,
    size: asset.data.length,
    digest: asset.digest,
    download_count: 0,
    created_at: asset.createdAt,
    updated_at: asset.updatedAt,
    browser_download_url: `${hosts.web}/${release.owner}/${release.repo}/releases/download/${releaseTagInUrls(release)}/${encodeURIComponent(asset.name)}`
  }
}

export function releaseJson(release: StoredRelease, hosts: FakeHosts): Record<string, unknown> {
  const api = `${hosts.api}/${repoPath(release)}`
  return {
    url: `${api}/releases/${release.id}`,
    assets_url: `${api}/releases/${release.id}/assets`,
    upload_url: `${hosts.uploads}/${repoPath(release)}/releases/${release.id}/assets{?name,label}`,
    html_url: `${hosts.web}/${release.owner}/${release.repo}/releases/tag/${releaseTagInUrls(release)}`,
    id: release.id,
    author: userJson(hosts),
    node_id: `RE_kwDO${release.id}`,
    tag_name: release.tagName,
    target_commitish: release.targetCommitish,
    name: release.name,
    draft: release.draft,
    immutable: release.immutable,
    prerelease: release.prerelease,
    created_at: release.createdAt,
    updated_at: release.updatedAt,
    published_at: release.publishedAt,
    assets: release.assets.map((a) => assetJson(release, a, hosts)),
    tarball_url: release.draft ? null : `${api}/tarball/${release.tagName}`,
    zipball_url: release.draft ? null : `${api}/zipball/${release.tagName}`,
    body: release.body
  }
}

export function errorJson(message: string, documentation = DOCS): Record<string, unknown> {
  return { message, documentation_url: documentation }
}

export function alreadyExistsJson(
  resource: 'Release' | 'ReleaseAsset',
  field: string
): Record<string, unknown> {
  return {
    message: 'Validation Failed',
    errors: [{ resource, code: 'already_exists', field }],
    documentation_url: DOCS
  }
}
