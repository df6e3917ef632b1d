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

  it('encodes the manifest as volantd re-marshals it (Go struct order, Normalize, $schema dropped)', () => {
    const estimate = estimateCommandLine(caddyJson)
    expect(estimate.cmdline).toContain('volant.plugin=caddy')
    expect(estimate.cmdline).toContain('volant.runtime=caddy')
    const param = /volant\.manifest=(\S+)/.exec(estimate.cmdline)?.[1] ?? ''
    const decoded = gunzipSync(Buffer.from(param, 'base64url')).toString('utf8')
    expect(decoded).toBe(
      '{"schema_version":"1.0","name":"caddy","version":"0.1.0","runtime":"caddy",' +
        '"rootfs":{"url":"","format":"raw"},' +
        '"initramfs":{"url":"/root/caddy-plugin/plugin.cpio.gz","checksum":"cef98fd5798ce875631aa0c98613fe48005a892aac8fb6ee81535945ebb0aa09"},' +
        '"resources":{"cpu_cores":1,"memory_mb":512},"health_check":{"endpoint":"/","timeout_ms":10000},' +
        '"workload":{"type":"http","base_url":"http://127.0.0.1:80","entrypoint":["/usr/bin/caddy","run","--config","/etc/caddy/Caddyfile"],' +
        '"env":{"PATH":"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},"workdir":"/"},' +
        '"enabled":true,"labels":{"volant.plugin":"caddy","volant.runtime":"caddy"}}'
    )
    // volantd's fixed parameters, ip= with a long VM name, volant.*, and room for more
    expect(estimate.cmdline).toMatch(
      /^console=ttyS0 reboot=k panic=1 quiet loglevel=1 i8042\.noaux i8042\.nokbd pci=lastbus=0 ip=/
    )
    expect(estimate.totalBytes - estimate.manifestBytes).toBeGreaterThan(380)
    expect(estimate.totalBytes - estimate.manifestBytes).toBeLessThan(460)
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
