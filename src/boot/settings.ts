import { FledgeError } from '../errors.js'
import type { HealthCheck } from './smoke.js'

export interface BootRequest {
  /** Also wait for the manifest's health check to answer over HTTP. */
  health: boolean
  /** Console text that means the image booted; default: see boot/smoke.ts. */
  expect?: string | undefined
  timeoutSeconds: number
}

export interface BootSettings {
  expect?: string
  timeoutSeconds: number
  /** The manifest JSON, passed on the command line as volantd does. */
  manifest?: string
  health?: HealthCheck
}

/**
 * The one place both faces turn a manifest and a boot request into boot
 * settings: `--health` (CLI) and `smoke-test: health` (Action) mean the same.
 */
export function bootSettings(manifest: { json: string; path?: string } | undefined, request: BootRequest): BootSettings {
  const settings: BootSettings = { timeoutSeconds: request.timeoutSeconds }
  if (request.expect) settings.expect = request.expect
  if (manifest) settings.manifest = manifest.json
  if (!request.health) return settings
  const file = manifest?.path
  if (!manifest) {
    throw new FledgeError('the health check needs a plugin manifest (workload.base_url and health_check.endpoint).', {
      fix: 'give the manifest (CLI: --manifest FILE; Action: a manifest input or a manifest.toml beside fledge.toml).'
    })
  }
  const m = JSON.parse(manifest.json.replace(/^\uFEFF/, '')) as {
    workload?: { base_url?: string }
    health_check?: { endpoint?: string; timeout_ms?: number }
  }
  const base = m.workload?.base_url
  if (!base) throw new FledgeError('the health check needs workload.base_url.', { file, key: 'workload.base_url', fix: 'set workload.base_url, e.g. "http://127.0.0.1:8000".' })
  const endpoint = m.health_check?.endpoint
  if (!endpoint) throw new FledgeError('the health check needs health_check.endpoint.', { file, key: 'health_check.endpoint', fix: 'set health_check.endpoint, e.g. "/healthz".' })
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new FledgeError(`workload.base_url "${base}" is not a URL.`, { file, key: 'workload.base_url', fix: 'write it as http://127.0.0.1:PORT.' })
  }
  settings.health = {
    guestPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    endpoint,
    // The health check cannot outlast the boot test itself.
    timeoutMs: m.health_check?.timeout_ms || request.timeoutSeconds * 1000
  }
  return settings
}
