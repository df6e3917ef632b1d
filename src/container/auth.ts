/**
 * Who we are to a registry: credentials given by the face (the Action's job token
 * for ghcr.io), else `auths` in docker's config.json; and the WWW-Authenticate
 * challenges (Bearer token realm, Basic) a registry answers a 401 with.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import { DOCKER_HUB } from './reference.js'

export interface RegistryCredentials {
  username: string
  password: string
  /** For messages: "~/.docker/config.json", "the job token". */
  source: string
}

export interface CredentialOptions {
  /** Docker's config.json; default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string | undefined
  /** Given by the face, by registry host (docker.io, ghcr.io, host:port). */
  credentials?: Record<string, { username: string; password: string }> | undefined
  /** The Action's job token, used for ghcr.io when nothing else names it. */
  githubToken?: string | undefined
}

export interface CredentialLookup {
  credentials?: RegistryCredentials
  /** A credential helper holds this registry's login, which fledge does not run. */
  helper?: string
  configPath: string
}

export function defaultDockerConfigPath(
  env: Readonly<Record<string, string | undefined>> = process.env
): string {
  return path.join(env['DOCKER_CONFIG'] || path.join(os.homedir(), '.docker'), 'config.json')
}

/** "https://index.docker.io/v1/" and "registry-1.docker.io" are docker.io; a scheme or path is dropped. */
export function normalizeRegistryHost(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase()
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>
  credsStore?: string
  credHelpers?: Record<string, string>
}

export async function lookupCredentials(
  registry: string,
  options: CredentialOptions
): Promise<CredentialLookup> {
  const configPath = options.dockerConfigPath ?? defaultDockerConfigPath()
  const wanted = normalizeRegistryHost(registry)
  for (const [host, given] of Object.entries(options.credentials ?? {})) {
    if (normalizeRegistryHost(host) === wanted)
      return { credentials: { ...given, source: 'the credentials given' }, configPath }
  }
  let config: DockerConfig | undefined
  let text: string | undefined
  try {
    text = await fs.readFile(configPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FledgeError(
        `cannot read ${configPath} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
        {
          fix: 'check the file and its permissions, or remove it to pull anonymously.'
        }
      )
    }
  }
  if (text !== undefined) {
    try {
      config = JSON.parse(text) as DockerConfig
    } catch {
      throw new FledgeError(`${configPath} is not valid JSON.`, {
        fix: 'repair it (docker login rewrites it), or remove it to pull anonymously.'
      })
    }
  }
  for (const [host, entry] of Object.entries(config?.auths ?? {})) {
    if (normalizeRegistryHost(host) !== wanted) continue
    let username = entry.username
    let password = entry.password
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) {
        throw new FledgeError(
          `${configPath}: auths."${host}".auth is not base64 of "user:password".`,
          {
            fix: `run docker login ${registry} again, or correct the entry.`
          }
        )
      }
      username = decoded.slice(0, colon)
      password = decoded.slice(colon + 1)
    }
    if (username !== undefined && password !== undefined) {
      return { credentials: { username, password, source: configPath }, configPath }
    }
  }
  if (wanted === 'ghcr.io' && options.githubToken) {
    return {
      credentials: {
        username: 'x-access-token',
        password: options.githubToken,
        source: 'the job token (GITHUB_TOKEN)'
      },
      configPath
    }
  }
  const helper =
    config?.credHelpers?.[registry] ?? config?.credHelpers?.[wanted] ?? config?.credsStore
  return { ...(helper ? { helper } : {}), configPath }
}

export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"` */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header)
  if (!match) return undefined
  const params: Record<string, string> = {}
  const pattern = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g
  for (let found = pattern.exec(match[2]!); found; found = pattern.exec(match[2]!)) {
    params[found[1]!.toLowerCase()] =
      found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3]!
  }
  return { scheme: match[1]!.toLowerCase(), params }
}

export function basicHeader(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
}
