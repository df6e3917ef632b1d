/**
 * A GitHub-compatible HTTP server on 127.0.0.1 for the release endpoints: the REST
 * API (api.github.com), the upload host (uploads.github.com, its own port, so a
 * client that ignores `upload_url` fails) and release downloads (github.com).
 *
 * Every request is routed and checked with GitHub's OpenAPI description; anything
 * that does not conform is answered with 400 and recorded in `violations`.
 * Faults (errors, resets, delays, races, wrong digests) are programmed per test.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { FaultPlan, WRONG_DIGEST, faultKind, type Fault, type FaultRule } from './github-faults.js'
import { alreadyExistsJson, assetJson, errorJson, releaseJson, releaseTagInUrls, type FakeHosts } from './github-json.js'
import { OpenApiDescription, type OperationMatch } from './github-openapi.js'
import { ReleaseStore, sha256Digest, type MakeLatest, type StoredAsset, type StoredRelease } from './github-store.js'

export type { Fault, FaultRule } from './github-faults.js'
export type { StoredAsset, StoredRelease } from './github-store.js'
export { WRONG_DIGEST } from './github-faults.js'

export interface RecordedRequest {
  host: 'api' | 'uploads'
  method: string
  path: string
  query: Record<string, string>
  headers: http.IncomingHttpHeaders
  bodyLength: number
  /** The parsed body of a JSON request. */
  json: unknown
  /** Milliseconds from the request's arrival to its answer (or reset). */
  durationMs: number | undefined
  /** The OpenAPI operation, or `web/download-release-asset` for a github.com download. */
  operationId: string | undefined
  /** The status answered; undefined when the connection was destroyed. */
  status: number | undefined
  fault: string | undefined
}

export interface Violation {
  method: string
  path: string
  operationId: string | undefined
  message: string
}

export interface SeedRelease {
  owner: string
  repo: string
  tag: string
  draft?: boolean
  prerelease?: boolean
  name?: string
  body?: string
  assets?: { name: string; data: Buffer; digest?: string | null; contentType?: string; state?: 'uploaded' | 'starter' }[]
}

export interface GitHubServerOptions {
  /** GitHub refuses a second release for a tag (422). With false, as GitHub does for
   * drafts, a draft may share its tag with other drafts. Default true. */
  uniqueTags?: boolean
  /** Check the fake's own responses against the description too. Default true. */
  checkResponses?: boolean
}

export interface GitHubServer {
  /** api.github.com: use as octokit `baseUrl` / GITHUB_API_URL. */
  readonly url: string
  /** uploads.github.com: where `upload_url` points. */
  readonly uploadsUrl: string
  readonly requests: RecordedRequest[]
  readonly violations: Violation[]
  /** Requests that change something (everything but GET/HEAD), in order. */
  writeRequests(): RecordedRequest[]
  addRelease(seed: SeedRelease): StoredRelease
  /** Adds an asset to a release (as another job's upload would). */
  addAsset(release: StoredRelease, asset: NonNullable<SeedRelease['assets']>[number]): StoredAsset
  /** Newest first, drafts included. */
  releases(owner: string, repo: string): StoredRelease[]
  inject(rule: FaultRule): void
  /** The next upload is stored, but GitHub reports a digest that does not match it. */
  reportWrongDigestOnNextUpload(): void
  unusedFaults(): FaultRule[]
  close(): Promise<void>
}

interface Reply {
  status: number
  json?: unknown
  bytes?: Buffer
  contentType?: string
  headers?: Record<string, string>
}

interface Context {
  match: OperationMatch
  params: Record<string, string>
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: Buffer
  fault: Fault | undefined
}

const MAX_BODY_BYTES = 256 * 1024 * 1024
const DOWNLOAD = /^\/([^/]+)\/([^/]+)\/releases\/download\/(.+)\/([^/]+)$/
const notFound = (): Reply => ({ status: 404, json: errorJson('Not Found') })

/** GitHub renames asset files with unusual characters; this approximates its rule. */
export const githubAssetName = (name: string): string =>
  name.replace(/[^A-Za-z0-9._+-]/g, '.').replace(/^\.+|\.+$/g, '') || 'default'

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  refuseProxies()
  const description = OpenApiDescription.load()
  const store = new ReleaseStore()
  const faults = new FaultPlan()
  const requests: RecordedRequest[] = []
  const violations: Violation[] = []
  const timers = new Set<NodeJS.Timeout>()
  const hosts: FakeHosts = { api: '', uploads: '', web: '' }
  const uniqueTags = options.uniqueTags ?? true
  const checkResponses = options.checkResponses ?? true

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  const releaseIn = (c: Context): StoredRelease | undefined => {
    const id = Number(c.params['release_id'])
    return store.release(c.params['owner'] ?? '', c.params['repo'] ?? '', id)
  }

  const paginate = (c: Context, items: unknown[], path: string): Reply => {
    const perPage = Math.min(Number(c.query.get('per_page') ?? 30), 100)
    const page = Math.max(Number(c.query.get('page') ?? 1), 1)
    const last = Math.max(Math.ceil(items.length / perPage), 1)
    const link = (p: number): string => `${hosts.api}${path}?per_page=${perPage}&page=${p}`
    const links: string[] = []
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
    if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`)
    const reply: Reply = { status: 200, json: items.slice((page - 1) * perPage, page * perPage) }
    if (links.length > 0) reply.headers = { link: links.join(', ') }
    return reply
  }

  const jsonBody = (c: Context): Record<string, unknown> =>
    c.body.length > 0 ? (JSON.parse(c.body.toString('utf8')) as Record<string, unknown>) : {}

  const handlers: Record<string, (c: Context, path: string) => Reply> = {
    'repos/list-releases': (c, path) =>
      paginate(
        c,
        store.releases(c.params['owner'] ?? '', c.params['repo'] ?? '').map((r) => releaseJson(r, hosts)),
        path
      ),
    // Like GitHub: the tags endpoint never returns drafts.
    'repos/get-release-by-tag': (c) => {
      const release = store.publishedByTag(c.params['owner'] ?? '', c.params['repo'] ?? '', c.params['tag'] ?? '')
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
    'repos/update-release': (c) => {
      const release = releaseIn(c)
      if (!release) return notFound()
      store.updateRelease(release, releaseFields(jsonBody(c)))
      return { status: 200, json: releaseJson(release, hosts) }
    },
    'repos/delete-release': (c) =>
      store.deleteRelease(c.params['owner'] ?? '', c.params['repo'] ?? '', Number(c.params['release_id']))
        ? { status: 204 }
        : notFound(),
    'repos/list-release-assets': (c, path) => {
      const release = releaseIn(c)
      return release
        ? paginate(
            c,
            release.assets.map((a) => assetJson(release, a, hosts)),
            path
          )
        : notFound()
    },
    'repos/get-release-asset': (c) => {
      const found = store.findAsset(c.params['owner'] ?? '', c.params['repo'] ?? '', Number(c.params['asset_id']))
      if (!found) return notFound()
      if (String(c.headers['accept'] ?? '').includes('application/octet-stream')) {
        return { status: 200, bytes: found.asset.data, contentType: found.asset.contentType }
      }
      return { status: 200, json: assetJson(found.release, found.asset, hosts) }
    },
    'repos/update-release-asset': (c) => {
      const found = store.findAsset(c.params['owner'] ?? '', c.params['repo'] ?? '', Number(c.params['asset_id']))
      if (!found) return notFound()
      const body = jsonBody(c)
      if (typeof body['name'] === 'string') found.asset.name = githubAssetName(body['name'])
      if (typeof body['label'] === 'string') found.asset.label = body['label']
      found.asset.updatedAt = store.timestamp()
      return { status: 200, json: assetJson(found.release, found.asset, hosts) }
    },
    'repos/delete-release-asset': (c) =>
      store.deleteAsset(c.params['owner'] ?? '', c.params['repo'] ?? '', Number(c.params['asset_id']))
        ? { status: 204 }
        : notFound(),
    'repos/upload-release-asset': (c) => {
      const release = releaseIn(c)
      if (!release) return notFound()
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
      return { status: 201, json: assetJson(release, asset, hosts) }
    }
  }

  /** github.com/{owner}/{repo}/releases/download/{tag}/{name}: not part of the REST API. */
  const download = (found: RegExpExecArray): Reply => {
    const [, owner = '', repo = '', tag = '', name = ''] = found.map((part) => decodeURIComponent(part))
    const release = store.releases(owner, repo).find((r) => releaseTagInUrls(r) === tag)
    const asset = release?.assets.find((a) => a.name === name && a.state === 'uploaded')
    return asset ? { status: 200, bytes: asset.data, contentType: 'application/octet-stream' } : notFound()
  }

  /** What a broken-off upload leaves behind on GitHub: an empty asset in state "starter". */
  const leaveStarterAsset = (match: OperationMatch, query: URLSearchParams): void => {
    if (match.operation.operationId !== 'repos/upload-release-asset') return
    const release = store.release(
      match.pathParams['owner'] ?? '',
      match.pathParams['repo'] ?? '',
      Number(match.pathParams['release_id'])
    )
    const name = githubAssetName(query.get('name') ?? '')
    if (!release || release.assets.some((a) => a.name === name)) return
    store.addAsset(release, { name, data: Buffer.alloc(0), state: 'starter', digest: null })
  }

  const handle = async (host: 'api' | 'uploads', req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname
    const record: RecordedRequest = {
      host,
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      bodyLength: 0,
      json: undefined,
      durationMs: undefined,
      operationId: undefined,
      status: undefined,
      fault: undefined
    }
    requests.push(record)
    const started = Date.now()
    res.on('close', () => (record.durationMs = Date.now() - started))
    const violate = (message: string): void => {
      violations.push({ method, path, operationId: record.operationId, message })
    }
    const send = (reply: Reply): void => {
      record.status = reply.status
      if (res.destroyed) return
      const headers: Record<string, string> = { 'x-github-request-id': `FAKE:${requests.length}`, ...reply.headers }
      if (reply.json !== undefined) {
        const text = JSON.stringify(reply.json)
        res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' })
        res.end(text)
      } else if (reply.bytes) {
        res.writeHead(reply.status, {
          ...headers,
          'content-type': reply.contentType ?? 'application/octet-stream',
          'content-length': String(reply.bytes.length)
        })
        res.end(reply.bytes)
      } else {
        res.writeHead(reply.status, headers)
        res.end()
      }
    }

    const fault = faults.take(method, path)
    if (fault) record.fault = faultKind(fault)
    if (fault && 'reset' in fault && fault.reset === 'before') {
      req.socket.destroy()
      return
    }

    const downloadMatch = host === 'api' && method === 'GET' ? DOWNLOAD.exec(path) : null
    const match = downloadMatch ? undefined : description.match(method, path)
    record.operationId = downloadMatch ? 'web/download-release-asset' : match?.operation.operationId

    if (fault && 'reset' in fault) {
      // midway: read part of the body, then drop the connection.
      const expected = Number(req.headers['content-length'] ?? 0)
      let received = 0
      req.on('data', (chunk: Buffer) => {
        received += chunk.length
        record.bodyLength = received
        if (received >= Math.max(1, Math.floor(expected / 2)) && !req.socket.destroyed) {
          if (match) leaveStarterAsset(match, url.searchParams)
          req.socket.destroy()
        }
      })
      req.on('end', () => {
        if (match) leaveStarterAsset(match, url.searchParams)
        req.socket.destroy()
      })
      return
    }

    let body: Buffer
    try {
      body = await readBody(req)
    } catch {
      return // the client went away
    }
    record.bodyLength = body.length
    if (String(req.headers['content-type'] ?? '').startsWith('application/json')) record.json = parseJson(body)

    if (downloadMatch) {
      send(download(downloadMatch))
      return
    }
    if (!match) {
      violate(`no operation in GitHub's OpenAPI description for ${method} ${path}`)
      send({ status: 404, json: errorJson('Not Found') })
      return
    }
    const operationId = match.operation.operationId
    const isUpload = operationId === 'repos/upload-release-asset'
    if (isUpload !== (host === 'uploads')) {
      violate(`${operationId} sent to ${host === 'api' ? 'api.github.com' : 'uploads.github.com'}`)
      send({ status: 404, json: errorJson('Not Found') })
      return
    }
    const problems = description.checkRequest(match, { method, path, query: url.searchParams, headers: req.headers, body })
    if (problems.length > 0) {
      for (const problem of problems) violate(problem)
      send({ status: 400, json: errorJson(`fake GitHub: request does not match the description: ${problems.join('; ')}`) })
      return
    }
    if (method !== 'GET' && !req.headers['authorization']) {
      send({ status: 401, json: errorJson('Requires authentication') })
      return
    }

    if (fault && 'status' in fault) {
      if (fault.leaveStarterAsset) leaveStarterAsset(match, url.searchParams)
      send({ status: fault.status, json: fault.body ?? errorJson(http.STATUS_CODES[fault.status] ?? 'Error'), headers: fault.headers ?? {} })
      return
    }
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs)
    if (fault && 'beforeHandling' in fault) fault.beforeHandling()

    const handler = handlers[operationId]
    if (!handler) {
      violate(`the fake server does not implement ${operationId}`)
      send({ status: 501, json: errorJson(`fake GitHub: ${operationId} is not implemented`) })
      return
    }
    let reply: Reply
    try {
      reply = handler({ match, params: match.pathParams, query: url.searchParams, headers: req.headers, body, fault }, path)
    } catch (error) {
      violate(`the fake server failed: ${error instanceof Error ? error.stack : String(error)}`)
      reply = { status: 500, json: errorJson('fake GitHub: internal error') }
    }
    if (checkResponses && reply.json !== undefined) {
      for (const problem of description.checkResponse(match.operation, reply.status, reply.json)) {
        violate(`the fake server's own ${problem}`)
      }
    }
    send(reply)
  }

  const listen = async (host: 'api' | 'uploads'): Promise<http.Server> => {
    const server = http.createServer((req, res) => {
      handle(host, req, res).catch((error: unknown) => {
        violations.push({ method: req.method ?? '', path: req.url ?? '', operationId: undefined, message: String(error) })
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return server
  }

  function seedAsset(release: StoredRelease, asset: NonNullable<SeedRelease['assets']>[number]): StoredAsset {
    return store.addAsset(release, {
      name: asset.name,
      data: asset.data,
      ...(asset.digest !== undefined ? { digest: asset.digest } : {}),
      ...(asset.contentType !== undefined ? { contentType: asset.contentType } : {}),
      ...(asset.state !== undefined ? { state: asset.state } : {})
    })
  }

  const api = await listen('api')
  const uploads = await listen('uploads')
  hosts.api = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  hosts.web = hosts.api
  hosts.uploads = `http://127.0.0.1:${(uploads.address() as AddressInfo).port}`

  return {
    url: hosts.api,
    uploadsUrl: hosts.uploads,
    requests,
    violations,
    writeRequests: () => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    addRelease(seed) {
      const release = store.createRelease(seed.owner, seed.repo, {
        tagName: seed.tag,
        draft: seed.draft ?? false,
        prerelease: seed.prerelease ?? false,
        name: seed.name ?? null,
        body: seed.body ?? null
      })
      for (const asset of seed.assets ?? []) seedAsset(release, asset)
      return release
    },
    addAsset: seedAsset,
    releases: (owner, repo) => store.releases(owner, repo),
    inject: (rule) => faults.add(rule),
    reportWrongDigestOnNextUpload: () =>
      faults.add({ method: 'POST', path: /\/releases\/\d+\/assets$/, fault: { digest: WRONG_DIGEST } }),
    unusedFaults: () => faults.unused(),
    async close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.all(
        [api, uploads].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve())
              server.closeAllConnections()
            })
        )
      )
    }
  }
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
  if (typeof body['target_commitish'] === 'string') fields.targetCommitish = body['target_commitish']
  if (typeof body['tag_name'] === 'string') fields.tagName = body['tag_name']
  if (typeof body['make_latest'] === 'string') fields.makeLatest = body['make_latest'] as MakeLatest
  return fields
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large for the fake server'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
    req.on('aborted', () => reject(new Error('aborted')))
  })
}

/**
 * The clients under test talk to 127.0.0.1 only. @actions/github routes through
 * HTTP(S)_PROXY when set, which would send that loopback traffic to a proxy host.
 */
function refuseProxies(): void {
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) {
    if (process.env[name]) {
      throw new Error(`${name} is set: the fake GitHub server tests must not go through a proxy; unset it`)
    }
  }
}
