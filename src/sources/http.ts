import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { HttpClient } from '@actions/http-client'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'

export interface NetworkOptions {
  attempts: number
  /** First retry waits this long, doubling each time. */
  retryBaseMs: number
  /** A request that sends nothing for this long is abandoned (and retried). */
  idleTimeoutMs: number
  /** A whole download (all attempts) must finish within this. */
  deadlineMs: number
}

export function defaultNetworkOptions(): NetworkOptions {
  const base = Number(process.env['FLEDGE_RETRY_BASE_MS'])
  return {
    attempts: 4,
    retryBaseMs: Number.isFinite(base) && base >= 0 ? base : 1000,
    idleTimeoutMs: 60_000,
    deadlineMs: 15 * 60_000
  }
}

const USER_AGENT = 'fledge-action'

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly retryAfterMs: number | undefined
  ) {
    super(`HTTP ${status} from ${url}`)
  }
}

function retryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) {
    return error.status >= 500 || error.status === 408 || error.status === 429
  }
  return !(error instanceof FledgeError)
}

async function withRetries<T>(
  what: string,
  options: NetworkOptions,
  log: Logger,
  attempt: () => Promise<T>
): Promise<T> {
  const deadline = Date.now() + options.deadlineMs
  let lastError: unknown
  for (let n = 1; n <= options.attempts; n++) {
    try {
      return await attempt()
    } catch (error) {
      lastError = error
      if (!retryable(error) || n === options.attempts) break
      const hinted = error instanceof HttpStatusError ? error.retryAfterMs : undefined
      const wait = Math.min(hinted ?? options.retryBaseMs * 2 ** (n - 1), 60_000)
      if (Date.now() + wait > deadline) break
      log.warn(`${what} failed (${describeError(error)}); retrying in ${Math.round(wait / 1000)} s.`)
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
  throw lastError
}

export function describeError(error: unknown): string {
  if (error instanceof HttpStatusError) return `HTTP ${error.status}`
  const code = (error as NodeJS.ErrnoException)?.code
  return code ?? (error instanceof Error ? error.message : String(error))
}

function client(options: NetworkOptions): HttpClient {
  return new HttpClient(USER_AGENT, [], {
    allowRetries: false,
    socketTimeout: options.idleTimeoutMs,
    allowRedirects: true,
    maxRedirects: 10
  })
}

function retryAfter(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['retry-after']
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value) * 1000
  const reset = headers['x-ratelimit-reset']
  if (typeof reset === 'string' && /^\d+$/.test(reset) && headers['x-ratelimit-remaining'] === '0') {
    return Math.max(0, Number(reset) * 1000 - Date.now())
  }
  return undefined
}

export async function getJson<T>(
  url: string,
  headers: Record<string, string>,
  options: NetworkOptions,
  log: Logger
): Promise<{ status: number; body: T | undefined }> {
  return withRetries(`GET ${url}`, options, log, async () => {
    const response = await client(options).get(url, headers)
    const status = response.message.statusCode ?? 0
    const text = await response.readBody()
    if (status >= 500 || status === 429 || status === 408) {
      throw new HttpStatusError(status, url, retryAfter(response.message.headers))
    }
    if (status === 404) return { status, body: undefined }
    if (status >= 400) throw new HttpStatusError(status, url, undefined)
    return { status, body: JSON.parse(text) as T }
  })
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
  request: { headers?: Record<string, string>; sha256?: string | undefined; what: string },
  options: NetworkOptions,
  log: Logger
): Promise<DownloadResult> {
  let result: DownloadResult
  try {
    result = await withRetries(`downloading ${request.what}`, options, log, () =>
      downloadOnce(url, dest, request.headers ?? {}, options)
    )
  } catch (error) {
    await fs.rm(dest, { force: true })
    if (error instanceof FledgeError) throw error
    const status = error instanceof HttpStatusError ? error.status : undefined
    throw new FledgeError(
      `could not download ${request.what} from ${url}: ${describeError(error)}.`,
      {
        fix:
          status === 404
            ? 'the URL does not exist; check the URL or version in fledge.toml.'
            : status === 401 || status === 403
              ? 'the server refused access; check the URL, or set a token (GITHUB_TOKEN) for GitHub downloads.'
              : 'check the URL and the network, then build again.'
      }
    )
  }
  if (request.sha256 && result.sha256 !== request.sha256) {
    await fs.rm(dest, { force: true })
    throw new FledgeError(
      `sha256 mismatch for ${request.what} from ${url}: expected ${request.sha256}, got ${result.sha256}.`,
      {
        fix: 'the file changed or the pinned checksum is wrong; verify the download and update the sha256 in fledge.toml.'
      }
    )
  }
  return result
}

async function downloadOnce(
  url: string,
  dest: string,
  headers: Record<string, string>,
  options: NetworkOptions
): Promise<DownloadResult> {
  const hash = createHash('sha256')
  let size = 0
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      size += chunk.length
      callback(null, chunk)
    }
  })
  if (url.startsWith('file:')) {
    const file = fileURLToPath(url)
    try {
      await pipeline(createReadStream(file), meter, createWriteStream(dest))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new FledgeError(`cannot read ${file} (${code ?? String(error)}).`, {
        fix: code === 'ENOENT' ? 'the file:// URL names a file that does not exist.' : 'check the file and its permissions.'
      })
    }
    return { sha256: hash.digest('hex'), size }
  }
  const response = await client(options).get(url, headers)
  const status = response.message.statusCode ?? 0
  if (status !== 200) {
    response.message.resume()
    throw new HttpStatusError(status, url, retryAfter(response.message.headers))
  }
  await pipeline(response.message, meter, createWriteStream(dest))
  const expected = Number(response.message.headers['content-length'])
  if (Number.isFinite(expected) && expected !== size) {
    throw new Error(`connection closed after ${size} of ${expected} bytes`)
  }
  return { sha256: hash.digest('hex'), size }
}
