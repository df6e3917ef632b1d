import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { COMMAND_LINE_LIMIT } from '../../src/manifest/cmdline.js'
import { checkCommandLine, estimateCommandLine } from '../../src/manifest/cmdline-check.js'

const caddyJson = readFileSync(
  join(process.cwd(), '__tests__/fixtures/manifest/caddy.json'),
  'utf8'
)

/** Caddy plus `count` env values that gzip cannot shrink much (hex digests). */
function caddyWithEnv(count: number): string {
  const manifest = JSON.parse(caddyJson) as { workload: { env: Record<string, string> } }
  for (let i = 0; i < count; i++) {
    manifest.workload.env[`SECRET_${i}`] = createHash('sha256').update(String(i)).digest('hex')
  }
  return JSON.stringify(manifest, null, 2)
}

describe('checkCommandLine', () => {
  it('is silent for the Caddy manifest', () => {
    expect(checkCommandLine(caddyJson)).toBeUndefined()
  })

  it('warns for a manifest with a large env, naming the largest part', () => {
    const warning = checkCommandLine(caddyWithEnv(40))
    expect(warning).toMatch(/over the 2048-byte limit/)
    expect(warning).toMatch(/Largest parts: workload\.env \(\d+ bytes of JSON\)/)
  })

  it('encodes the compact manifest with the volant.* parameters next to it', () => {
    const estimate = estimateCommandLine(caddyJson)
    expect(estimate.cmdline).toContain('volant.plugin=caddy')
    expect(estimate.cmdline).toContain('volant.runtime=caddy')
    const param = /volant\.manifest=(\S+)/.exec(estimate.cmdline)?.[1] ?? ''
    const decoded = gunzipSync(Buffer.from(param, 'base64url')).toString('utf8')
    expect(decoded).toBe(JSON.stringify(JSON.parse(caddyJson)))
    // about 300 bytes of other parameters, as volantd adds them
    expect(estimate.totalBytes - estimate.manifestBytes).toBeGreaterThan(280)
    expect(estimate.totalBytes - estimate.manifestBytes).toBeLessThan(340)
  })

  it('warns exactly when the estimate reaches the limit', () => {
    let sawFit = false
    let sawOver = false
    for (let count = 0; count <= 40; count++) {
      const json = caddyWithEnv(count)
      const over = estimateCommandLine(json).totalBytes >= COMMAND_LINE_LIMIT
      expect(checkCommandLine(json) !== undefined).toBe(over)
      sawFit ||= !over
      sawOver ||= over
    }
    expect([sawFit, sawOver]).toEqual([true, true])
  })
})
