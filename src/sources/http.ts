import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import * as path from 'node:path'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { HttpClient } from '@actions/http-client'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import {
  DEFAULT_RETRY_POLICY,
  DeadlineExceeded,
  RetriesExhausted,
  defaultRetryPolicy,
  isTransientStatus,
  realClock,
  retrying,
  serverWaitMs,
  type FailureVerdict,
  type RetryContext
} from '../retry.js'

export interface NetworkOptions {
  attempts: number
  /** First retry waits this long, doubling each time (with jitter). */
  retryBaseMs: number
  /** A request that sends nothing for this long is abandoned (and retried). */
  idleTimeoutMs: number
  /** A whole download (all attempts, transfers included) must finish within this. */
  deadlineMs: number
  /** The largest body accepted, by Content-Length and while streaming. */
  maxDownloadBytes?: number | undefined
  /** Makes the backoff jitter predictable (tests). */
  random?: (() => number) | undefined
}

/** Far above any busybox, agent or kernel, far below a disk. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
export const MAX_REDIRECTS = 10

/**
 * The one retry policy's defaults; FLEDGE_RETRY_BASE_MS sets the first wait and
 * FLEDGE_MAX_DOWNLOAD_BYTES the size limit, for faces that pass neither.
 */
export function defaultNetworkOptions(env: Record<string, string | undefined> = process.env): NetworkOptions {
  const policy = defaultRetryPolicy(env)
  const max = Number(env['FLEDGE_MAX_DOWNLOAD_BYTES'])
  return {
    attempts: policy.attempts,
    retryBaseMs: policy.baseDelayMs,
    idleTimeoutMs: 60_000,
    deadlineMs: policy.deadlineMs,
    maxDownloadBytes: Number.isSafeInteger(max) && max > 0 ? max : DEFAULT_MAX_DOWNLOAD_BYTES
  }
}

function retryContext(options: NetworkOptions, log: Logger): RetryContext {
  return {
    policy: { ...DEFAULT_RETRY_POLICY, attempts: options.attempts, baseDelayMs: options.retryBaseMs, deadlineMs: options.deadlineMs },
    clock: realClock,
    logger: log,
    random: options.random
  }
}

const USER_AGENT = 'fledge-action'

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: Record<string, string>
  ) {
    super(`HTTP ${status} from ${url}`)
  }
}

/** FledgeErrors (size limit, redirects, disk full) are final; HTTP statuses by the policy; network failures retried. */
function verdict(error: unknown): FailureVerdict {
  if (error instanceof HttpStatusError) {
    return isTransientStatus(error.status, error.headers)
      ? { retry: true, waitMs: serverWaitMs(error.headers, Date.now()) }
      : { retry: false }
  }
  return { retry: !(error instanceof FledgeError) }
}

export function describeError(error: unknown): string {
  if (error instanceof HttpStatusError) return `HTTP ${error.status}`
  if (error instanceof RetriesExhausted) {
    return error.last instanceof DeadlineExceeded
      ? `${error.message} (all attempts included)`
      : `${describeError(error.last)} (gave up after ${error.attempts} attempt${error.attempts === 1 ? '' : 's'})`
  }
  const code = (error as NodeJS.ErrnoException)?.code
  return code ?? (error instanceof Error ? error.message : String(error))
}

interface Opened {
  status: number
  headers: Record<string, string>
  body: http.IncomingMessage
  /** Where the response came from, after redirects. */
  url: string
}

/**
 * GET `url`, following up to MAX_REDIRECTS redirects (relative ones too) and
 * dropping the authorization header when one leaves the host. Proxies come from
 * the environment through @actions/http-client's agents.
 */
async function open(url: string, headers: Record<string, string>, options: NetworkOptions, signal: AbortSignal): Promise<Opened> {
  const agents = new HttpClient(USER_AGENT)
  let current = new URL(url)
  let sending = { ...headers, 'user-agent': USER_AGENT }
  for (let redirects = 0; ; redirects++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new FledgeError(`${url} redirected to ${current.href}, which is not an http(s) URL.`, {
        fix: 'use a URL that serves the file over http(s) directly.'
      })
    }
    const response = await get(current, sending, agents.getAgent(current.href), options.idleTimeoutMs, signal)
    const status = response.statusCode ?? 0
    const location = response.headers.location
    if (![301, 302, 303, 307, 308].includes(status) || !location) {
      return { status, headers: flatHeaders(response.headers), body: response, url: current.href }
    }
    response.resume()
    if (redirects >= MAX_REDIRECTS) {
      throw new FledgeError(`too many redirects (more than ${MAX_REDIRECTS}) from ${url}; the last one pointed at ${new URL(location, current).href}.`, {
        fix: 'the server redirects in a loop; check the URL in a browser and use the final address.'
      })
    }
    const next = new URL(location, current)
    if (current.protocol === 'https:' && next.protocol === 'http:') {
      throw new FledgeError(`${current.href} redirected from https to plain http (${next.href}); refused.`, {
        fix: 'use a URL that stays on https.'
      })
    }
    if (next.hostname !== current.hostname) {
      sending = Object.fromEntries(Object.entries(sending).filter(([name]) => name.toLowerCase() !== 'authorization')) as typeof sending
    }
    current = next
  }
}

function get(
  url: URL,
  headers: Record<string, string>,
  agent: http.Agent,
  idleTimeoutMs: number,
  signal: AbortSignal
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers, agent, signal }, resolve)
    // Covers the wait for headers and every pause in the body.
    request.setTimeout(idleTimeoutMs, () =>
      request.destroy(new Error(`no data from ${url.host} for ${idleTimeoutMs / 1000} s`))
    )
    request.on('error', reject)
    request.end()
  })
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function tooLarge(what: string, url: string, size: string, limit: number): FledgeError {
  return new FledgeError(`${what} from ${url} is ${size}, more than the ${formatBytes(limit)} a download may be.`, {
    fix: 'check the URL; if the file really is that large, raise the limit (FLEDGE_MAX_DOWNLOAD_BYTES, in bytes).'
  })
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${bytes} bytes`
}

/** Counts and hashes what passes, and stops at `limit` bytes. */
function meter(limit: number, onLimit: () => Error): Transform & { size: () => number; sha256: () => string } {
  const hash = createHash('sha256')
  let size = 0
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > limit) return callback(onLimit())
      hash.update(chunk)
      callback(null, chunk)
    }
  })
  return Object.assign(stream, { size: () => size, sha256: () => hash.digest('hex') })
}

/** ENOSPC/EDQUOT as a sentence naming the folder; anything else unchanged. */
export function diskFullError(
  error: unknown,
  folder: string,
  writing: string,
  setting: 'RUNNER_TEMP' | 'RUNNER_TOOL_CACHE'
): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error
  return new FledgeError(`the disk is full: could not write ${writing} to ${folder} (${code}).`, {
    fix: `free space on the disk that holds ${folder}, or point ${setting} at a larger disk.`
  })
}

export async function getJson<T>(
  url: string,
  headers: Record<string, string>,
  options: NetworkOptions,
  log: Logger
): Promise<{ status: number; body: T | undefined }> {
  const response = await requestBytes(url, headers, options, log)
  const text = response.body.toString('utf8')
  if (response.status === 404) return { status: response.status, body: undefined }
  if (response.status >= 400) throw new HttpStatusError(response.status, url, response.headers)
  const type = response.headers['content-type'] ?? ''
  let parsed: T
  try {
    parsed = JSON.parse(text) as T
  } catch {
    throw new FledgeError(
      `expected JSON from ${response.url}, got ${type.split(';')[0] || 'no content type'} instead ("${text.slice(0, 60).replace(/\s+/g, ' ').trim()}${text.length > 60 ? '…' : ''}").`,
      { fix: 'check the API URL (GITHUB_API_URL); a proxy or captive portal may be answering instead of the API.' }
    )
  }
  return { status: response.status, body: parsed }
}

export interface BufferedResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
  /** After redirects. */
  url: string
}

/**
 * GET `url` under the retry policy and the size limit, and hand back any final
 * answer (401s and 404s included) for the caller to read: transient statuses
 * (5xx, 408, 429) are retried, network failures too.
 */
export async function requestBytes(
  url: string,
  headers: Record<string, string>,
  options: NetworkOptions,
  log: Logger
): Promise<BufferedResponse> {
  const limit = options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES
  return retrying(`GET ${url}`, retryContext(options, log), verdict, async (_attempt, signal) => {
    const response = await open(url, headers, options, signal)
    const counter = meter(limit, () => tooLarge('the answer', url, `more than ${formatBytes(limit)}`, limit))
    const chunks: Buffer[] = []
    await pipeline(
      response.body,
      counter,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk)
          callback()
        }
      }),
      { signal }
    )
    if (isTransientStatus(response.status, response.headers)) throw new HttpStatusError(response.status, url, response.headers)
    return { status: response.status, headers: response.headers, body: Buffer.concat(chunks), url: response.url }
  })
}

/** A download the server answered with a final error status (or none, for network failures). */
export class DownloadFailed extends FledgeError {
  constructor(
    message: string,
    readonly status: number | undefined,
    options: { fix: string }
  ) {
    super(message, options)
  }
}

export interface DownloadResult {
  sha256: string
  size: number
}

/**
 * Streams `url` (http(s) or file://) into `dest` while hashing it. A wrong
 * sha256 or a failed request leaves no file behind.
 */
export async function downloadFile(
  url: string,
  dest: string,
  request: { headers?: Record<string, string>; sha256?: string | undefined; what: string; refusedFix?: string },
  options: NetworkOptions,
  log: Logger
): Promise<DownloadResult> {
  let result: DownloadResult
  try {
    result = await retrying(`downloading ${request.what}`, retryContext(options, log), verdict, (_attempt, signal) =>
      downloadOnce(url, dest, request, options, signal)
    )
  } catch (error) {
    await fs.rm(dest, { force: true })
    if (error instanceof FledgeError) throw error
    const status = error instanceof HttpStatusError ? error.status : undefined
    throw new DownloadFailed(`could not download ${request.what} from ${url}: ${describeError(error)}.`, status, {
      fix:
        status === 404
          ? 'the URL does not exist; check the URL or version in fledge.toml.'
          : status === 401 || status === 403
            ? (request.refusedFix ?? 'the server refused access; check the URL, or set a token (GITHUB_TOKEN) for GitHub downloads.')
            : 'check the URL and the network, then build again.'
    })
  }
  if (request.sha256 && result.sha256 !== request.sha256) {
    await fs.rm(dest, { force: true })
    throw new FledgeError(`sha256 mismatch for ${request.what} from ${url}: expected ${request.sha256}, got ${result.sha256}.`, {
      fix: 'the file changed or the pinned checksum is wrong; verify the download and update the sha256 in fledge.toml.'
    })
  }
  return result
}

async function downloadOnce(
  url: string,
  dest: string,
  request: { headers?: Record<string, string>; what: string },
  options: NetworkOptions,
  signal: AbortSignal
): Promise<DownloadResult> {
  const limit = options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES
  const write = async (from: NodeJS.ReadableStream, counter: ReturnType<typeof meter>) => {
    try {
      await pipeline(from, counter, createWriteStream(dest), { signal })
    } catch (error) {
      throw diskFullError(error, path.dirname(dest), request.what, 'RUNNER_TEMP')
    }
  }
  if (url.startsWith('file:')) {
    const file = fileURLToPath(url)
    const counter = meter(limit, () => tooLarge(request.what, url, `more than ${formatBytes(limit)}`, limit))
    try {
      await write(createReadStream(file), counter)
    } catch (error) {
      if (error instanceof FledgeError) throw error
      const code = (error as NodeJS.ErrnoException).code
      throw new FledgeError(`cannot read ${file} (${code ?? String(error)}).`, {
        fix: code === 'ENOENT' ? 'the file:// URL names a file that does not exist.' : 'check the file and its permissions.'
      })
    }
    return { sha256: counter.sha256(), size: counter.size() }
  }
  const response = await open(url, request.headers ?? {}, options, signal)
  if (response.status !== 200) {
    response.body.resume()
    throw new HttpStatusError(response.status, response.url, response.headers)
  }
  const expected = response.headers['content-length'] === undefined ? NaN : Number(response.headers['content-length'])
  if (Number.isFinite(expected) && expected > limit) {
    response.body.destroy()
    throw tooLarge(request.what, url, formatBytes(expected), limit)
  }
  const counter = meter(limit, () => tooLarge(request.what, url, `more than ${formatBytes(limit)}`, limit))
  await write(response.body, counter)
  if (Number.isFinite(expected) && expected !== counter.size()) {
    throw new Error(`connection closed after ${counter.size()} of ${expected} bytes`)
  }
  return { sha256: counter.sha256(), size: counter.size() }
}
