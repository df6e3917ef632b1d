import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FledgeError, FledgeErrors } from '../../src/errors.js'
import type { Logger } from '../../src/log.js'
import { generateManifest, generateManifestFromToml } from '../../src/manifest/generate.js'
import { MANIFEST_SCHEMA_ID } from '../../src/manifest/schema.js'
import { validateManifest } from '../../src/manifest/validate.js'

const fixtures = join(process.cwd(), '__tests__/fixtures/manifest')
const artifact = {
  url: 'https://github.com/acme/webserver/releases/download/v1.0.0/plugin.cpio.gz',
  checksum: '0123456789ABCDEF'.repeat(4)
}

const MINIMAL = `
name = "app"
version = "0.1.0"
runtime = "app"

[workload]
entrypoint = "/usr/bin/app"
base_url = "http://127.0.0.1:80"
`

function generate(toml: string) {
  return generateManifestFromToml(toml, 'manifest.toml', artifact)
}

/** The FledgeErrors lines of a failing generation, formatted. */
function failures(toml: string, file = 'manifest.toml'): string[] {
  try {
    generateManifestFromToml(toml, file, artifact)
  } catch (error) {
    if (error instanceof FledgeErrors) return error.errors.map((e) => e.format())
    if (error instanceof FledgeError) return [error.format()]
    throw error
  }
  throw new Error('expected the generation to fail')
}

describe('generateManifest from fledge’s manifest.toml', () => {
  it('converts string entrypoint + args, [env], [network] with [[network.expose]], [health_check], [actions]', () => {
    const { json, manifest } = generateManifest(join(fixtures, 'webserver.manifest.toml'), artifact)
    expect(json).toBe(readFileSync(join(fixtures, 'webserver.manifest.json'), 'utf8'))
    expect(validateManifest(manifest)).toEqual([])
    expect(JSON.parse(json)).toEqual(manifest)
  })

  it('warns that [[network.expose]] is left out, and about a manifest too large for the kernel command line', () => {
    const warnings: string[] = []
    const logger: Logger = {
      info() {},
      debug() {},
      warn: (message, where) => warnings.push(`${where?.file}: ${message}`)
    }
    generateManifest(join(fixtures, 'webserver.manifest.toml'), artifact, logger)
    expect(warnings).toEqual([
      expect.stringMatching(/webserver\.manifest\.toml: network\.expose is checked but not written/)
    ])

    warnings.length = 0
    generateManifestFromToml(MINIMAL, 'manifest.toml', artifact, logger)
    expect(warnings).toEqual([])

    const env = Array.from(
      { length: 40 },
      (_, i) => `KEY_${i} = "${createHash('sha256').update(String(i)).digest('hex')}"`
    )
    generateManifestFromToml(
      `${MINIMAL}\n[env]\n${env.join('\n')}\n`,
      'manifest.toml',
      artifact,
      logger
    )
    expect(warnings).toEqual([expect.stringMatching(/^manifest\.toml: .*over the 2048-byte limit/)])
  })

  it('applies fledge’s defaults and volantd’s needs to a minimal template', () => {
    const { manifest } = generate(MINIMAL)
    expect(manifest).toEqual({
      $schema: MANIFEST_SCHEMA_ID,
      schema_version: 'v1',
      name: 'app',
      version: '0.1.0',
      runtime: 'app',
      enabled: true,
      initramfs: { url: artifact.url, checksum: `sha256:${artifact.checksum.toLowerCase()}` },
      resources: { cpu_cores: 1, memory_mb: 256 },
      workload: { type: 'http', base_url: 'http://127.0.0.1:80', entrypoint: ['/usr/bin/app'] },
      network: { mode: 'bridged' }
    })
    expect(Object.keys(manifest.initramfs as object)).toEqual(['url', 'checksum'])
  })

  it('keeps what the author wrote: schema_version, enabled, a list entrypoint, [workload.env], labels, pass-through tables', () => {
    const { manifest } = generate(`
schema_version = "1.0"
name = "app"
version = "0.1.0"
runtime = "app-runtime"
enabled = false
labels = { team = "edge" }

[workload]
entrypoint = ["/bin/sh", "-c"]
args = ["exec /usr/bin/app"]
base_url = "https://127.0.0.1:8443"
workdir = "/srv"

[workload.env]
MODE = "prod"

[network]
mode = "vsock"

[cloud_init]
datasource = "NoCloud"

[devices]
pci_passthrough = ["0000:01:00.0"]
`)
    expect(manifest).toMatchObject({
      schema_version: '1.0',
      runtime: 'app-runtime',
      enabled: false,
      labels: { team: 'edge' },
      workload: {
        entrypoint: ['/bin/sh', '-c', 'exec /usr/bin/app'],
        env: { MODE: 'prod' },
        workdir: '/srv'
      },
      network: { mode: 'vsock' },
      cloud_init: { datasource: 'NoCloud' },
      devices: { pci_passthrough: ['0000:01:00.0'] }
    })
    expect(Object.keys(manifest)).toEqual([
      '$schema',
      'schema_version',
      'name',
      'version',
      'runtime',
      'enabled',
      'initramfs',
      'resources',
      'workload',
      'network',
      'cloud_init',
      'devices',
      'labels'
    ])
    expect(validateManifest(manifest)).toEqual([])
  })

  it('a template exactly as fledge accepts it: names the missing base_url, suggesting the exposed port', () => {
    const file = join(fixtures, 'nginx-fledge.manifest.toml')
    let error: unknown
    try {
      generateManifest(file, artifact)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).format()).toBe(
      `${file}:11:1: workload.base_url: is required. Fix: add base_url = "http://127.0.0.1:80" under [workload]: ` +
        'the address the workload serves HTTP on inside the VM (fledge did not need it; volantd does).'
    )
  })

  it('TOML syntax errors carry file:line:column', () => {
    expect(failures('name = "a"\nversion = \n', 'm/manifest.toml')).toEqual([
      expect.stringMatching(/^m\/manifest\.toml:2:11: invalid TOML: /)
    ])
  })

  it('a missing file is named', () => {
    const file = join(fixtures, 'no-such.toml')
    expect(() => generateManifest(file, artifact)).toThrow(FledgeError)
    expect(() => generateManifest(file, artifact)).toThrow(/cannot read the manifest template/)
  })
})

describe('generateManifest refuses what fledge or volantd would', () => {
  const withSection = (section: string) => `${MINIMAL}\n${section}\n`
  const cases: [string, string, RegExp][] = [
    [
      'memory_mb below fledge’s 128',
      '[resources]\nmemory_mb = 64',
      /resources\.memory_mb: must be at least 128, not 64\./
    ],
    [
      'fractional memory_mb',
      '[resources]\nmemory_mb = 256.5',
      /resources\.memory_mb: must be a whole number/
    ],
    [
      'cpu_cores 0',
      '[resources]\ncpu_cores = 0',
      /resources\.cpu_cores: must be at least 1, not 0\./
    ],
    [
      'port above 65535',
      '[[network.expose]]\nport = 70000',
      /network\.expose\[0\]\.port: must be between 1 and 65535, not 70000\./
    ],
    [
      'port 0',
      '[[network.expose]]\nport = 0\nprotocol = "udp"',
      /network\.expose\[0\]\.port: must be between 1 and 65535, not 0\./
    ],
    [
      'port missing',
      '[[network.expose]]\nprotocol = "tcp"',
      /network\.expose\[0\]\.port: is required\./
    ],
    [
      'protocol sctp',
      '[[network.expose]]\nport = 80\nprotocol = "sctp"',
      /network\.expose\[0\]\.protocol: must be one of "tcp", "udp", not "sctp"\./
    ],
    [
      'network mode nat',
      '[network]\nmode = "nat"',
      /network\.mode: must be one of "vsock", "bridged", "dhcp", not "nat"\./
    ],
    [
      'a non-string env value',
      '[env]\nPORT = 8080',
      /env\.PORT: must be a string, not 8080\. Fix: quote it: PORT = "8080"\./
    ],
    [
      'health_check without timeout_ms',
      '[health_check]\nendpoint = "/"',
      /health_check\.timeout_ms: is required\./
    ],
    [
      'an action without method',
      '[actions.reload]\npath = "/reload"',
      /manifest\.toml:10:1: actions\.reload\.method: is required\. Fix: each \[actions\.<name>\]/
    ],
    [
      'an unknown top-level key',
      '[initramfs]\nurl = "x"',
      /manifest\.toml:10:1: initramfs: unknown key\. Fix: use one of: schema_version, name/
    ],
    [
      'labels that are not strings',
      '[labels]\nreplicas = 2',
      /manifest\.toml:11:1: labels\.replicas: must be a string/
    ],
    [
      'a top-level key written under a table',
      'enabled = false',
      /workload\.enabled: unknown key\. Fix: enabled is a top-level key, but a key written after a \[workload\] header belongs to that table/
    ]
  ]
  it.each(cases)('%s', (_name, section, expected) => {
    expect(failures(withSection(section))).toEqual([expect.stringMatching(expected)])
  })

  it('workload problems: unknown key, non-http type, non-URL base_url, empty program', () => {
    const lines = failures(`
name = "a"
version = "1"
runtime = "a"
[workload]
type = "grpc"
cmd = "/bin/a"
entrypoint = ""
base_url = "localhost:8080"
`)
    expect(lines).toHaveLength(4)
    expect(lines).toContainEqual(expect.stringMatching(/workload\.cmd: unknown key\./))
    expect(lines).toContainEqual(
      expect.stringMatching(/workload\.type: must be one of "http", not "grpc"/)
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        /workload\.base_url: "localhost:8080" is not an http:\/\/ or https:\/\/ URL/
      )
    )
    expect(lines).toContainEqual(
      expect.stringMatching(/workload\.entrypoint: must name the program to run/)
    )
  })

  it('reports every missing required key at once', () => {
    const lines = failures('[workload]\nentrypoint = "/bin/app"\n')
    expect(lines.map((line) => line.split(': ')[1])).toEqual([
      'name',
      'version',
      'runtime',
      'workload.base_url'
    ])
  })

  it('env given both as [env] and [workload.env]', () => {
    expect(failures(withSection('[env]\nA = "1"\n[workload.env]\nB = "2"'))).toEqual([
      expect.stringMatching(/manifest\.toml:10:1: env: the environment is given twice/)
    ])
  })

  it('an artifact URL volantd cannot fetch is blamed on the artifact, not the file', () => {
    let error: unknown
    try {
      generateManifestFromToml(MINIMAL, 'manifest.toml', { ...artifact, url: 'plugin.cpio.gz' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).location).toEqual({ key: 'initramfs.url' })
    expect((error as FledgeError).message).toMatch(
      /^the artifact url must be an http\(s\) URL or an absolute path/
    )
  })
})
