/** Shared set-up for the publish tests: a fake GitHub, built files, a real GitHubReleaser. */
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Logger } from '../../src/log.js'
import { GitHubReleaser } from '../../src/publish/github-releaser.js'
import type { PublishOptions, PublishRequest } from '../../src/publish/publish.js'
import type { GitHubServer } from '../support/github-server.js'

export const OWNER = 'volantvm'
export const REPO = 'example-plugin'
export const TAG = 'v1.2.0'
/** Matches the upload endpoint's path (the asset name is in the query). */
export const UPLOADS = /^\/repos\/[^/]+\/[^/]+\/releases\/\d+\/assets$/

export interface BuiltFile {
  path: string
  name: string
  data: Buffer
  sha256: string
}

export function writeFile(dir: string, name: string, data: Buffer): BuiltFile {
  const file = path.join(dir, name)
  fs.writeFileSync(file, data)
  return { path: file, name, data, sha256: createHash('sha256').update(data).digest('hex') }
}

/** A plugin image big enough that a reset "midway" really is in the middle of the stream. */
export function buildFiles(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-publish-'))): {
  image: BuiltFile
  manifest: BuiltFile
} {
  const image = writeFile(dir, 'plugin.cpio.gz', randomBytes(2 * 1024 * 1024))
  const manifest = writeFile(
    dir,
    'manifest.json',
    Buffer.from(JSON.stringify({ sha256: image.sha256, n: Math.random() }))
  )
  return { image, manifest }
}

export function request(
  files: BuiltFile[],
  overrides: Partial<PublishRequest> = {}
): PublishRequest {
  return {
    tag: TAG,
    name: `example-plugin ${TAG}`,
    notes: 'Built by fledge-action.',
    assets: files.map((f) => ({
      path: f.path,
      name: f.name,
      contentType: f.name.endsWith('.json') ? 'application/json' : 'application/gzip',
      sha256: f.sha256
    })),
    ...overrides
  }
}

export interface Harness {
  releaser: GitHubReleaser
  options: PublishOptions
  /** Every backoff the publish code asked for, in ms (sleeping is instant in tests). */
  sleeps: number[]
  warnings: string[]
}

export function harness(server: GitHubServer, retry: PublishOptions['retry'] = {}): Harness {
  const sleeps: number[] = []
  const warnings: string[] = []
  const logger: Logger = { info() {}, debug() {}, warn: (m) => void warnings.push(m) }
  return {
    releaser: new GitHubReleaser({
      token: 'ghs_test',
      owner: OWNER,
      repo: REPO,
      baseUrl: server.url
    }),
    options: {
      logger,
      sleep: async (ms) => void sleeps.push(ms),
      retry: {
        attempts: 4,
        baseDelayMs: 10,
        maxDelayMs: 40,
        maxRateLimitWaitMs: 5_000,
        deadlineMs: 20_000,
        jitter: 0, // exact backoff figures to assert
        ...retry
      }
    },
    sleeps,
    warnings
  }
}

/** "METHOD operationId" of each request, to check the order of calls. */
export const calls = (server: GitHubServer): string[] =>
  server.requests.map(
    (r) => `${r.method} ${r.operationId ?? r.path}${r.status !== undefined ? ` ${r.status}` : ''}`
  )

export async function download(url: string): Promise<Buffer> {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
  return Buffer.from(await response.arrayBuffer())
}
