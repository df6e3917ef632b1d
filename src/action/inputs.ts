import * as core from '@actions/core'
import { DEFAULT_OUTPUT_NAME, parseCompression, type Compression } from '../archive/compression.js'
import { FledgeError } from '../errors.js'
import type { MakeLatest } from '../publish/index.js'

export type PublishMode = 'auto' | 'true' | 'false'
export type SmokeTest = 'false' | 'boot' | 'health'

export interface ActionInputs {
  config: string
  manifest: string
  /** Given, or the compression's default name (plugin.cpio.gz for gzip). */
  output: string
  compression: Compression
  workingDirectory: string
  publish: PublishMode
  tag: string
  token: string
  /** Where volantvm/volant's agent and kernel are looked up: github.com's API, also on GHES. */
  agentApiUrl: string
  /** Token for agentApiUrl; empty: anonymous. */
  agentToken: string
  releaseName: string
  /** undefined: not set (a new release is published; an existing one keeps its state). */
  draft: boolean | undefined
  /** undefined: not set (a new release is a full release; an existing one keeps its flag). */
  prerelease: boolean | undefined
  /** undefined: not set (Latest only when no higher version is Latest already). */
  makeLatest: MakeLatest | undefined
  initramfsUrl: string
  versionFromTag: boolean
  sourceDateEpoch: string
  cache: boolean
  allowDynamic: boolean
  smokeTest: SmokeTest
  kernel: string
  kernelSha256: string
  bootExpect: string
  bootTimeout: number
  maxSize: number | undefined
  releaseNotes: boolean
  releaseBody: string
  /** A file whose text is the release body (wins over releaseBody, as in softprops and ncipollo). */
  bodyPath: string
  generateReleaseNotes: boolean
  /** Globs, one per line, of more files to attach. */
  files: string
  failOnUnmatchedFiles: boolean
  attest: boolean
}

type Read = (name: string) => string

/** Reads and checks every input; a bad value names the input and the accepted values. */
export function readInputs(read: Read = (name) => core.getInput(name)): ActionInputs {
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = (read(name).trim() || fallback).toLowerCase()
    if ((allowed as readonly string[]).includes(value)) return value as T
    throw new FledgeError(`input ${name} is "${value}"; allowed: ${allowed.join(', ')}.`, {
      fix: `set ${name} to one of ${allowed.join(' | ')}.`
    })
  }
  const bool = (name: string, fallback: boolean): boolean =>
    choice(name, ['true', 'false'], fallback ? 'true' : 'false') === 'true'
  /** @actions/core reads an input nobody set as '': then undefined, so it is not sent. */
  const explicit = <T>(name: string, value: () => T): T | undefined => (read(name).trim() === '' ? undefined : value())
  const timeout = Number(read('boot-timeout') || '120')
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new FledgeError(`input boot-timeout is "${read('boot-timeout')}".`, { fix: 'use a number of seconds, e.g. 120.' })
  }
  const compression = parseCompression(read('compression') || 'gzip', 'input compression')
  return {
    config: read('config') || 'fledge.toml',
    manifest: read('manifest'),
    output: read('output') || DEFAULT_OUTPUT_NAME[compression.format],
    compression,
    workingDirectory: read('working-directory') || '.',
    publish: choice('publish', ['auto', 'true', 'false'] as const, 'auto'),
    tag: read('tag'),
    token: read('token'),
    agentApiUrl: read('agent-api-url').trim() || 'https://api.github.com',
    agentToken: read('agent-token'),
    releaseName: read('release-name'),
    draft: explicit('draft', () => bool('draft', false)),
    prerelease: explicit('prerelease', () => bool('prerelease', false)),
    makeLatest: explicit('make-latest', () => choice('make-latest', ['true', 'false', 'legacy'] as const, 'true')),
    initramfsUrl: read('initramfs-url') || 'release',
    versionFromTag: bool('version-from-tag', false),
    sourceDateEpoch: read('source-date-epoch'),
    cache: bool('cache', true),
    allowDynamic: bool('allow-dynamic', false),
    smokeTest: choice('smoke-test', ['false', 'boot', 'health'] as const, 'false'),
    kernel: read('kernel') || 'volant',
    kernelSha256: read('kernel-sha256'),
    bootExpect: read('boot-expect'),
    bootTimeout: timeout,
    maxSize: parseSize(read('max-size')),
    releaseNotes: bool('release-notes', true),
    releaseBody: read('release-body'),
    bodyPath: read('body-path').trim(),
    generateReleaseNotes: bool('generate-release-notes', false),
    files: read('files'),
    failOnUnmatchedFiles: bool('fail-on-unmatched-files', true),
    attest: bool('attest', false)
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }

/** "50MB" → 50 000 000; "20MiB" → 20 971 520; "" → no budget. */
export function parseSize(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(trimmed)
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()]
  if (!match || unit === undefined) {
    throw new FledgeError(`input max-size is "${text}".`, { fix: 'write a size such as 50MB, 20MiB or 1048576.' })
  }
  return Math.floor(Number(match[1]) * unit)
}
