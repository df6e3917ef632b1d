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
import { errorJson, type FakeHosts } from './github-json.js'
import { OpenApiDescription, type OperationMatch } from './github-openapi.js'
import { downloadRoute, leaveStarterAsset, releaseRoutes, type Reply } from './github-routes.js'
import { ReleaseStore, type StoredAsset, type StoredRelease } from './github-store.js'

export type { Fault, FaultRule } from './github-faults.js'
export type { StoredAsset, StoredRelease } from './github-store.js'
export { githubAssetName } from './github-routes.js'
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
  assets?: {
    name: string
    data: Buffer
    digest?: string | null
    contentType?: string
    state?: 'uploaded' | 'starter'
  }[]
}

export interface GitHubServerOptions {
  /** GitHub refuses a second release for a tag (422). With false, as GitHub does for
   * drafts, a draft may share its tag with other drafts. Default true. */
  uniqueTags?: boolean
  /** The repository setting: releases become immutable when published. Default false. */
  immutableReleases?: boolean
  /** Check the fake's own responses against the description too. Default true. */
  checkResponses?: boolean
  /**
   * GitHub Enterprise Server's layout: the REST API under this path ('/api/v3') and
   * uploads under '/api/uploads'; downloads stay at the web root. Default: github.com's.
   */
  apiPrefix?: string
}

export interface GitHubServer {
  /** api.github.com: use as octokit `baseUrl` / GITHUB_API_URL. */
  readonly url: string
  /** uploads.github.com: where `upload_url` points. */
  readonly uploadsUrl: string
  /** github.com: GITHUB_SERVER_URL (release pages and downloads). */
  readonly webUrl: string
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

const MAX_BODY_BYTES = 256 * 1024 * 1024

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  refuseProxies()
  const description = OpenApiDescription.load()
  const store = new ReleaseStore({ immutableReleases: options.immutableReleases ?? false })
  const faults = new FaultPlan()
  const requests: RecordedRequest[] = []
  const violations: Violation[] = []
  const timers = new Set<NodeJS.Timeout>()
  const hosts: FakeHosts = { api: '', uploads: '', web: '' }
  const uniqueTags = options.uniqueTags ?? true
  const checkResponses = options.checkResponses ?? true
  const apiPrefix = options.apiPrefix ?? ''
  const uploadsPrefix = apiPrefix ? '/api/uploads' : ''

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  const routes = releaseRoutes(store, hosts, { uniqueTags })

  const isUploadOperation = (match: OperationMatch | undefined): match is OperationMatch =>
    match?.operation.operationId === 'repos/upload-release-asset'

  /** The answer to a request that arrived whole; `violate` records non-conformance. */
  const answer = async (
    host: 'api' | 'uploads',
    request: {
      method: string
      path: string
      query: URLSearchParams
      headers: http.IncomingHttpHeaders
      body: Buffer
    },
    match: OperationMatch | undefined,
    fault: Fault | undefined,
    violate: (message: string) => void
  ): Promise<Reply> => {
    const { method, path, query, headers, body } = request
    if (!match) {
      violate(`no operation in GitHub's OpenAPI description for ${method} ${path}`)
      return { status: 404, json: errorJson('Not Found') }
    }
    const operationId = match.operation.operationId
    if (isUploadOperation(match) !== (host === 'uploads')) {
      violate(`${operationId} sent to ${host === 'api' ? 'api.github.com' : 'uploads.github.com'}`)
      return { status: 404, json: errorJson('Not Found') }
    }
    const problems = description.checkRequest(match, request)
    if (problems.length > 0) {
      for (const problem of problems) violate(problem)
      return {
        status: 400,
        json: errorJson(
          `fake GitHub: request does not match the description: ${problems.join('; ')}`
        )
      }
    }
    if (method !== 'GET' && !headers['authorization'])
      return { status: 401, json: errorJson('Requires authentication') }

    if (fault && 'status' in fault) {
      if (fault.leaveStarterAsset && isUploadOperation(match))
        leaveStarterAsset(store, match.pathParams, query)
      const json = fault.body ?? errorJson(http.STATUS_CODES[fault.status] ?? 'Error')
      return { status: fault.status, json, headers: fault.headers ?? {} }
    }
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs)
    if (fault && 'beforeHandling' in fault) fault.beforeHandling()

    const route = routes[operationId]
    if (!route) {
      violate(`the fake server does not implement ${operationId}`)
      return { status: 501, json: errorJson(`fake GitHub: ${operationId} is not implemented`) }
    }
    let reply: Reply
    try {
      reply = route({ params: match.pathParams, query, headers, body, fault, path })
    } catch (error) {
      violate(`the fake server failed: ${error instanceof Error ? error.stack : String(error)}`)
      return { status: 500, json: errorJson('fake GitHub: internal error') }
    }
    if (checkResponses && reply.json !== undefined) {
      for (const problem of description.checkResponse(match.operation, reply.status, reply.json)) {
        violate(`the fake server's own ${problem}`)
      }
    }
    return reply
  }

  const handle = async (
    host: 'api' | 'uploads',
    req: http.IncomingMessage,
    res: http.ServerResponse
  ) => {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const prefix = host === 'api' ? apiPrefix : uploadsPrefix
    const prefixed = prefix !== '' && url.pathname.startsWith(`${prefix}/`)
    const path = prefixed ? url.pathname.slice(prefix.length) : url.pathname
    const record: RecordedRequest = {
      host,
      method,
      path: url.pathname,
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

    const fault = faults.take(method, path)
    if (fault) record.fault = faultKind(fault)
    if (fault && 'reset' in fault && fault.reset === 'before') {
      req.socket.destroy()
      return
    }
    const download =
      host === 'api' && method === 'GET' && !prefixed ? downloadRoute(store, path) : undefined
    const outsidePrefix = prefix !== '' && !prefixed && !download
    const match = download || outsidePrefix ? undefined : description.match(method, path)
    record.operationId = download ? 'web/download-release-asset' : match?.operation.operationId

    if (fault && 'reset' in fault) {
      dropMidway(req, record, () => {
        if (isUploadOperation(match)) leaveStarterAsset(store, match.pathParams, url.searchParams)
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
    if (String(req.headers['content-type'] ?? '').startsWith('application/json'))
      record.json = parseJson(body)

    const violate = (message: string): void => {
      violations.push({ method, path: url.pathname, operationId: record.operationId, message })
    }
    if (outsidePrefix) violate(`${url.pathname} is outside ${prefix}, where this server's API is`)
    const reply =
      download ??
      (await answer(
        host,
        { method, path, query: url.searchParams, headers: req.headers, body },
        match,
        fault,
        violate
      ))
    record.status = reply.status
    send(res, reply, `FAKE:${requests.length}`)
  }

  const listen = async (host: 'api' | 'uploads'): Promise<http.Server> => {
    const server = http.createServer((req, res) => {
      handle(host, req, res).catch((error: unknown) => {
        violations.push({
          method: req.method ?? '',
          path: req.url ?? '',
          operationId: undefined,
          message: String(error)
        })
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return server
  }

  function seedAsset(
    release: StoredRelease,
    asset: NonNullable<SeedRelease['assets']>[number]
  ): StoredAsset {
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
  hosts.web = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  hosts.api = `${hosts.web}${apiPrefix}`
  hosts.uploads = `http://127.0.0.1:${(uploads.address() as AddressInfo).port}${uploadsPrefix}`

  return {
    url: hosts.api,
    uploadsUrl: hosts.uploads,
    webUrl: hosts.web,
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
      faults.add({
        method: 'POST',
        path: /\/releases\/\d+\/assets$/,
        fault: { digest: WRONG_DIGEST }
      }),
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

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
  if (res.destroyed) return
  const headers: Record<string, string> = { 'x-github-request-id': requestId, ...reply.headers }
  if (reply.json !== undefined) {
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify(reply.json))
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

/** Reads about half of the body (all of a small one), calls `partial`, and drops the connection. */
function dropMidway(req: http.IncomingMessage, record: RecordedRequest, partial: () => void): void {
  const half = Math.max(1, Math.floor(Number(req.headers['content-length'] ?? 0) / 2))
  const drop = (): void => {
    if (req.socket.destroyed) return
    partial()
    req.socket.destroy()
  }
  req.on('data', (chunk: Buffer) => {
    record.bodyLength += chunk.length
    if (record.bodyLength >= half) drop()
  })
  req.on('end', drop)
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
      if (size > MAX_BODY_BYTES)
        req.destroy(new Error('request body too large for the fake server'))
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
  for (const name of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'http_proxy',
    'https_proxy',
    'ALL_PROXY',
    'all_proxy'
  ]) {
    if (process.env[name]) {
      throw new Error(
        `${name} is set: the fake GitHub server tests must not go through a proxy; unset it`
      )
    }
  }
}
