/**
 * The fake GitHub's handlers, keyed by OpenAPI operationId, plus the github.com
 * download route and what a broken-off upload leaves behind.
 */
import type * as http from 'node:http'
import type { Fault } from './github-faults.js'
import {
  alreadyExistsJson,
  assetJson,
  errorJson,
  releaseJson,
  releaseTagInUrls,
  type FakeHosts
} from './github-json.js'
import {
  sha256Digest,
  type MakeLatest,
  type ReleaseStore,
  type StoredRelease
} from './github-store.js'

export interface Reply {
  status: number
  json?: unknown
  bytes?: Buffer
  contentType?: string
  headers?: Record<string, string>
}

export interface RouteContext {
  /** Path parameters, decoded. */
  params: Record<string, string>
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: Buffer
  fault: Fault | undefined
  /** The request path, for pagination links. */
  path: string
}

export type Route = (c: RouteContext) => Reply

const notFound = (): Reply => ({ status: 404, json: errorJson('Not Found') })
// The wording of GitHub's refusal is approximate; the status is what clients see.
const immutable = (): Reply => ({
  status: 422,
  json: errorJson('Cannot modify the assets of an immutable release')
})

/** GitHub renames asset files with unusual characters; this approximates its rule. */
export const githubAssetName = (name: string): string =>
  name.replace(/[^A-Za-z0-9._+-]/g, '.').replace(/^\.+|\.+$/g, '') || 'default'

export function releaseRoutes(
  store: ReleaseStore,
  hosts: FakeHosts,
  options: { uniqueTags: boolean }
): Record<string, Route> {
  const { uniqueTags } = options
  const releaseIn = (c: RouteContext): StoredRelease | undefined => {
    const id = Number(c.params['release_id'])
    return store.release(c.params['owner'] ?? '', c.params['repo'] ?? '', id)
  }

  const paginate = (c: RouteContext, items: unknown[]): Reply => {
    const perPage = Math.min(Number(c.query.get('per_page') ?? 30), 100)
    const page = Math.max(Number(c.query.get('page') ?? 1), 1)
    const last = Math.max(Math.ceil(items.length / perPage), 1)
    const link = (p: number): string => `${hosts.api}${c.path}?per_page=${perPage}&page=${p}`
    const links: string[] = []
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
    if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`)
    const reply: Reply = { status: 200, json: items.slice((page - 1) * perPage, page * perPage) }
    if (links.length > 0) reply.headers = { link: links.join(', ') }
    return reply
  }

  const jsonBody = (c: RouteContext): Record<string, unknown> =>
    c.body.length > 0 ? (JSON.parse(c.body.toString('utf8')) as Record<string, unknown>) : {}

  return {
    'repos/list-releases': (c) =>
      paginate(
        c,
        store
          .releases(c.params['owner'] ?? '', c.params['repo'] ?? '')
          .map((r) => releaseJson(r, hosts))
      ),
    // Like GitHub: the tags endpoint never returns drafts.
    'repos/get-release-by-tag': (c) => {
      const release = store.publishedByTag(
        c.params['owner'] ?? '',
        c.params['repo'] ?? '',
        c.params['tag'] ?? ''
      )
      return release ? { status: 200, json: releaseJson(release, hosts) } : notFound()
    },
    'repos/get-latest-release': (c) => {
      const release = store.latest(c.params['owner'] ?? '', c.params['repo'] ?? '')
      return release ? { status: 200, json: releaseJson(release, hosts) } : notFound()
    },
    'repos/get-release': (c) => {
      const release = releaseIn(c)
      return release ? { status: 200, json: releaseJson(release, hosts) } : notFound()
    },
    'repos/create-release': (c) => {
      const owner = c.params['owner'] ?? ''
      const repo = c.params['repo'] ?? ''
      const body = jsonBody(c)
      const tagName = String(body['tag_name'])
      const draft = body['draft'] === true
      const clash = store
        .releases(owner, repo)
        .some((r) => r.tagName === tagName && (uniqueTags || !(draft && r.draft)))
      if (clash) return { status: 422, json: alreadyExistsJson('Release', 'tag_name') }
      const release = store.createRelease(owner, repo, { tagName, ...releaseFields(body), draft })
      return {
        status: 201,
        json: releaseJson(release, hosts),
        headers: { location: `${hosts.api}/repos/${owner}/${repo}/releases/${release.id}` }
      }
    },
    // What GitHub writes is longer; its shape (a heading, then the changelog link) is what matters.
    'repos/generate-release-notes': (c) => {
      const owner = c.params['owner'] ?? ''
      const repo = c.params['repo'] ?? ''
      const tagName = String(jsonBody(c)['tag_name'])
      const previous = store.latest(owner, repo)?.tagName
      const changelog = previous
        ? `${hosts.web}/${owner}/${repo}/compare/${previous}...${tagName}`
        : `${hosts.web}/${owner}/${repo}/commits/${tagName}`
      return {
        status: 200,
        json: {
          name: tagName,
          body: `## What's Changed\n* Faster boot by @author in ${hosts.web}/${owner}/${repo}/pull/7\n\n\n**Full Changelog**: ${changelog}`
        }
      }
    },
    'repos/update-release': (c) => {
      const release = releaseIn(c)
      if (!release) return notFound()
      store.updateRelease(release, releaseFields(jsonBody(c)))
      return { status: 200, json: releaseJson(release, hosts) }
    },
    'repos/delete-release': (c) =>
      store.deleteRelease(
        c.params['owner'] ?? '',
        c.params['repo'] ?? '',
        Number(c.params['release_id'])
      )
        ? { status: 204 }
        : notFound(),
    'repos/list-release-assets': (c) => {
      const release = releaseIn(c)
      return release
        ? paginate(
            c,
            release.assets.map((a) => assetJson(release, a, hosts))
          )
        : notFound()
    },
    'repos/get-release-asset': (c) => {
      const found = store.findAsset(
        c.params['owner'] ?? '',
        c.params['repo'] ?? '',
        Number(c.params['asset_id'])
      )
      if (!found) return notFound()
      if (String(c.headers['accept'] ?? '').includes('application/octet-stream')) {
        return { status: 200, bytes: found.asset.data, contentType: found.asset.contentType }
      }
      return { status: 200, json: assetJson(found.release, found.asset, hosts) }
    },
    'repos/update-release-asset': (c) => {
      const found = store.findAsset(
        c.params['owner'] ?? '',
        c.params['repo'] ?? '',
        Number(c.params['asset_id'])
      )
      if (!found) return notFound()
      if (found.release.immutable) return immutable()
      const body = jsonBody(c)
      if (typeof body['name'] === 'string') found.asset.name = githubAssetName(body['name'])
      if (typeof body['label'] === 'string') found.asset.label = body['label']
      found.asset.updatedAt = store.timestamp()
      return { status: 200, json: assetJson(found.release, found.asset, hosts) }
    },
    'repos/delete-release-asset': (c) => {
      const owner = c.params['owner'] ?? ''
      const repo = c.params['repo'] ?? ''
      const found = store.findAsset(owner, repo, Number(c.params['asset_id']))
      if (!found) return notFound()
      if (found.release.immutable) return immutable()
      store.deleteAsset(owner, repo, found.asset.id)
      return { status: 204 }
    },
    'repos/upload-release-asset': (c) => {
      const release = releaseIn(c)
      if (!release) return notFound()
      if (release.immutable) return immutable()
      const name = githubAssetName(c.query.get('name') ?? '')
      if (release.assets.some((a) => a.name === name)) {
        return { status: 422, json: alreadyExistsJson('ReleaseAsset', 'name') }
      }
      const asset = store.addAsset(release, {
        name,
        label: c.query.get('label'),
        contentType: String(c.headers['content-type']),
        data: c.body,
        digest: c.fault && 'digest' in c.fault ? c.fault.digest : sha256Digest(c.body)
      })
      const reply: Reply = { status: 201, json: assetJson(release, asset, hosts) }
      if (c.fault && 'vanish' in c.fault) release.assets = release.assets.filter((a) => a !== asset)
      return reply
    }
  }
}

const DOWNLOAD = /^\/([^/]+)\/([^/]+)\/releases\/download\/(.+)\/([^/]+)$/

/** github.com/{owner}/{repo}/releases/download/{tag}/{name} (not part of the REST API). */
export function downloadRoute(store: ReleaseStore, path: string): Reply | undefined {
  const found = DOWNLOAD.exec(path)
  if (!found) return undefined
  const [, owner = '', repo = '', tag = '', name = ''] = found.map((part) =>
    decodeURIComponent(part)
  )
  const release = store.releases(owner, repo).find((r) => releaseTagInUrls(r) === tag)
  const asset = release?.assets.find((a) => a.name === name && a.state === 'uploaded')
  return asset
    ? { status: 200, bytes: asset.data, contentType: 'application/octet-stream' }
    : notFound()
}

/** What a broken-off upload leaves behind on GitHub: an empty asset in state "starter". */
export function leaveStarterAsset(
  store: ReleaseStore,
  params: Record<string, string>,
  query: URLSearchParams
): void {
  const release = store.release(
    params['owner'] ?? '',
    params['repo'] ?? '',
    Number(params['release_id'])
  )
  const name = githubAssetName(query.get('name') ?? '')
  if (!release || release.assets.some((a) => a.name === name)) return
  store.addAsset(release, { name, data: Buffer.alloc(0), state: 'starter', digest: null })
}

function releaseFields(body: Record<string, unknown>): {
  name?: string
  body?: string
  draft?: boolean
  prerelease?: boolean
  targetCommitish?: string
  tagName?: string
  makeLatest?: MakeLatest
} {
  const fields: ReturnType<typeof releaseFields> = {}
  if (typeof body['name'] === 'string') fields.name = body['name']
  if (typeof body['body'] === 'string') fields.body = body['body']
  if (typeof body['draft'] === 'boolean') fields.draft = body['draft']
  if (typeof body['prerelease'] === 'boolean') fields.prerelease = body['prerelease']
  if (typeof body['target_commitish'] === 'string')
    fields.targetCommitish = body['target_commitish']
  if (typeof body['tag_name'] === 'string') fields.tagName = body['tag_name']
  if (typeof body['make_latest'] === 'string') fields.makeLatest = body['make_latest'] as MakeLatest
  return fields
}
