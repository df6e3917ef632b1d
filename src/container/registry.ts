/**
 * An OCI distribution (v2) client for pulling one repository: manifests by tag or
 * digest, blobs by digest, and the 401 dance (anonymous or credentialed bearer
 * tokens, Basic). Requests go through sources/http.ts, so retries, timeouts and
 * size limits are those of every other download.
 */
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import {
  describeError,
  downloadFile,
  requestBytes,
  DownloadFailed,
  type BufferedResponse,
  type NetworkOptions
} from '../sources/http.js'
import {
  basicHeader,
  lookupCredentials,
  parseChallenge,
  type CredentialOptions,
  type RegistryCredentials
} from './auth.js'
import { MANIFEST_ACCEPT } from './manifest.js'
import type { RegistryReference } from './reference.js'

export interface RegistryClientContext {
  log: Logger
  network: NetworkOptions
  credentials: CredentialOptions
}

export interface FetchedManifest {
  bytes: Buffer
  contentType: string | undefined
  /** The registry's Docker-Content-Digest, when it sent one. */
  announcedDigest: string | undefined
}

/** containerd's limit for a manifest. */
const MAX_SMALL_ANSWER_BYTES = 4 * 1024 * 1024

export class RegistryClient {
  /** Requests sent, token requests included: zero means a build made none. */
  requests = 0
  private authorization: string | undefined
  private contacted = false
  readonly name: string

  constructor(
    private readonly reference: RegistryReference,
    private readonly context: RegistryClientContext
  ) {
    this.name = `${reference.registry}/${reference.repository}`
  }

  private endpoint(rest: string): string {
    return `${this.reference.scheme}://${this.reference.apiHost}/v2/${rest}`
  }

  /** The manifest named by a tag or digest; undefined when the registry has no such manifest (404). */
  async manifest(tagOrDigest: string): Promise<FetchedManifest | undefined> {
    const response = await this.get(
      this.endpoint(`${this.reference.repository}/manifests/${tagOrDigest}`),
      { accept: MANIFEST_ACCEPT }
    )
    if (response.status === 404) return undefined
    if (response.status !== 200) throw this.unexpected(response, `the manifest ${tagOrDigest}`)
    return {
      bytes: response.body,
      contentType: response.headers['content-type'],
      announcedDigest: response.headers['docker-content-digest']
    }
  }

  /** Streams the blob into `dest` and returns the hex sha256 of what it wrote; the caller checks it. */
  async blob(digest: string, dest: string, what: string): Promise<string> {
    // A blob may be the first thing asked (its manifest came from the cache): learn the auth first.
    if (!this.contacted) {
      const ping = await this.get(this.endpoint(''), {})
      if (ping.status !== 200 && ping.status !== 404) throw this.unexpected(ping, 'the API root')
    }
    const url = this.endpoint(`${this.reference.repository}/blobs/${digest}`)
    const download = async (): Promise<string> => {
      this.requests++
      const { sha256 } = await downloadFile(
        url,
        dest,
        {
          headers: this.authorization ? { authorization: this.authorization } : {},
          what: `${what} of ${this.name} (${digest})`,
          refusedFix: `check that the credentials for ${this.reference.registry} may pull ${this.reference.repository}.`
        },
        this.context.network,
        this.context.log
      )
      return sha256
    }
    try {
      return await download()
    } catch (error) {
      // Bearer tokens expire (Docker Hub's after 5 minutes): a long pull gets a fresh one once.
      const expired =
        error instanceof DownloadFailed &&
        error.status === 401 &&
        this.authorization?.startsWith('Bearer ')
      if (!expired) throw error
      this.authorization = undefined
      const ping = await this.get(this.endpoint(''), {})
      if (ping.status !== 200 && ping.status !== 404) throw this.unexpected(ping, 'the API root')
      return await download()
    }
  }

  /** Manifests, pings and tokens are small: a registry answering more is refused early. */
  private smallAnswers(): NetworkOptions {
    const limit = this.context.network.maxDownloadBytes ?? MAX_SMALL_ANSWER_BYTES
    return { ...this.context.network, maxDownloadBytes: Math.min(limit, MAX_SMALL_ANSWER_BYTES) }
  }

  /** GET with the current authorization; a 401 is answered once by the challenge's scheme and the request repeated. */
  private async get(url: string, headers: Record<string, string>): Promise<BufferedResponse> {
    let response = await this.send(url, headers)
    if (response.status === 401) {
      const had = this.authorization
      await this.authorize(response)
      if (this.authorization !== had) response = await this.send(url, headers)
      if (response.status === 401) throw await this.refused(response)
    }
    return response
  }

  private async send(url: string, headers: Record<string, string>): Promise<BufferedResponse> {
    this.requests++
    this.contacted = true
    try {
      return await requestBytes(
        url,
        { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        this.smallAnswers(),
        this.context.log
      )
    } catch (error) {
      if (error instanceof FledgeError) throw error
      throw new FledgeError(
        `could not reach the registry ${this.reference.registry} (${url}): ${describeError(error)}.`,
        {
          fix: `check the registry's name and the network${this.reference.scheme === 'https' ? ' (registries other than localhost are reached over HTTPS)' : ''}, then build again.`
        }
      )
    }
  }

  private async authorize(response: BufferedResponse): Promise<void> {
    const challenge = parseChallenge(response.headers['www-authenticate'] ?? '')
    const lookup = await lookupCredentials(this.reference.registry, this.context.credentials)
    if (challenge?.scheme === 'basic') {
      if (!lookup.credentials) throw this.needsCredentials(lookup)
      this.authorization = basicHeader(lookup.credentials)
      return
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params['realm']) {
      throw new FledgeError(
        `the registry ${this.reference.registry} answered 401 with an authentication scheme fledge does not speak (${response.headers['www-authenticate'] ?? 'no WWW-Authenticate header'}).`,
        {
          fix: 'use a registry that offers Bearer tokens or Basic auth (all public registries do).'
        }
      )
    }
    const realm = new URL(challenge.params['realm'])
    if (challenge.params['service']) realm.searchParams.set('service', challenge.params['service'])
    realm.searchParams.set(
      'scope',
      challenge.params['scope'] ?? `repository:${this.reference.repository}:pull`
    )
    this.authorization = `Bearer ${await this.token(realm.href, lookup.credentials, lookup)}`
  }

  private async token(
    url: string,
    credentials: RegistryCredentials | undefined,
    lookup: { helper?: string; configPath: string }
  ): Promise<string> {
    this.requests++
    let response: BufferedResponse
    try {
      response = await requestBytes(
        url,
        credentials ? { authorization: basicHeader(credentials) } : {},
        this.smallAnswers(),
        this.context.log
      )
    } catch (error) {
      if (error instanceof FledgeError) throw error
      throw new FledgeError(
        `could not get a token for ${this.name} from ${url}: ${describeError(error)}.`,
        {
          fix: 'check the network, then build again.'
        }
      )
    }
    if (response.status === 401 || response.status === 403) {
      throw credentials
        ? this.refusedWith(
            credentials,
            `its token service (${new URL(url).host}) answered HTTP ${response.status}`
          )
        : this.needsCredentials(lookup)
    }
    let token: unknown
    try {
      const json = JSON.parse(response.body.toString('utf8')) as {
        token?: unknown
        access_token?: unknown
      }
      token = json.token ?? json.access_token
    } catch {
      token = undefined
    }
    if (response.status !== 200 || typeof token !== 'string' || !token) {
      throw new FledgeError(
        `the token service ${url} for ${this.name} gave no token (HTTP ${response.status}).`,
        {
          fix: 'check the registry; its token service is not answering as the distribution spec says.'
        }
      )
    }
    return token
  }

  private async refused(response: BufferedResponse): Promise<FledgeError> {
    const lookup = await lookupCredentials(this.reference.registry, this.context.credentials)
    if (!lookup.credentials) return this.needsCredentials(lookup)
    return this.refusedWith(lookup.credentials, `it answered HTTP ${response.status}`)
  }

  private refusedWith(credentials: RegistryCredentials, how: string): FledgeError {
    return new FledgeError(
      `the registry ${this.reference.registry} refused the credentials from ${credentials.source} for ${this.name}: ${how}.`,
      {
        fix: `check the user name and password (or token) for ${this.reference.registry}, and that they may pull ${this.reference.repository}.`
      }
    )
  }

  private needsCredentials(lookup: { helper?: string; configPath: string }): FledgeError {
    const helper = lookup.helper
      ? `; ${lookup.configPath} keeps its logins in docker-credential-${lookup.helper}, which fledge does not run`
      : ''
    return new FledgeError(
      `${this.name} needs credentials (the registry answered HTTP 401) and none were found for ${this.reference.registry}${helper}.`,
      {
        fix: `log in so that ${lookup.configPath} has an "auths" entry for ${this.reference.registry} (docker login ${this.reference.registry}${lookup.helper ? ', without a credential helper' : ''}); check the repository name too, as registries answer 401 for repositories that do not exist.`
      }
    )
  }

  private unexpected(response: BufferedResponse, what: string): FledgeError {
    const detail = registryErrorDetail(response.body)
    return new FledgeError(
      `the registry ${this.reference.registry} answered HTTP ${response.status} for ${what} of ${this.name}${detail ? ` (${detail})` : ''}.`,
      {
        fix:
          response.status === 403
            ? `check that your credentials may pull ${this.reference.repository}.`
            : 'check the reference and the registry, then build again.'
      }
    )
  }
}

/** The distribution spec's `{"errors":[{"code","message"}]}`, as "CODE: message". */
export function registryErrorDetail(body: Buffer): string | undefined {
  try {
    const json = JSON.parse(body.toString('utf8')) as {
      errors?: { code?: string; message?: string }[]
    }
    const first = json.errors?.[0]
    return first ? [first.code, first.message].filter(Boolean).join(': ') : undefined
  } catch {
    return undefined
  }
}
