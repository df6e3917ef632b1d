import { FledgeError } from '../errors.js'
import { workloadPort } from '../manifest/validate.js'
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
  const base = m.workload?.base_url?.trim()
  if (!base) throw new FledgeError('the health check needs workload.base_url.', { file, key: 'workload.base_url', fix: 'set workload.base_url, e.g. "http://127.0.0.1:80".' })
  const port = workloadPort(base)
  if (port === undefined) {
    throw new FledgeError(`workload.base_url "${base}" is not an http(s) URL.`, { file, key: 'workload.base_url', fix: 'write it as http://127.0.0.1:PORT.' })
  }
  // kestrel probes base_url + health_check.endpoint (an empty endpoint probes base_url itself).
  const endpoint = `${new URL(base).pathname.replace(/\/$/, '')}${m.health_check?.endpoint?.trim() ?? ''}` || '/'
  settings.health = {
    guestPort: port,
    endpoint,
    // Readiness within the boot test's own budget: health_check.timeout_ms is kestrel's budget
    // for the workload (it waits at least 2 minutes), not a bound on a cold boot under emulation.
    timeoutMs: request.timeoutSeconds * 1000
  }
  return settings
}
