import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FledgeError, FledgeErrors } from '../../src/errors.js'
import { assertValidManifest, validateManifest } from '../../src/manifest/validate.js'

const fixtures = join(process.cwd(), '__tests__/fixtures/manifest')
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as Record<string, unknown>

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The Caddy manifest from the seeds with one change applied. */
function caddyWith(change: (m: Json) => void): Json {
  const manifest = load('caddy.json') as Json
  change(manifest)
  return manifest
}

describe('validateManifest accepts the seeds’ manifests', () => {
  it.each(['caddy.json', 'myapp.json'])('%s', (name) => {
    expect(validateManifest(load(name))).toEqual([])
  })

  it('a rootfs manifest, checksums in every accepted form, every URL prefix', () => {
    for (const checksum of ['sha256:' + 'a'.repeat(64), 'A'.repeat(64)]) {
      for (const url of ['http://h/p', 'https://h/p', 'file:///p', '/p']) {
        expect(validateManifest(caddyWith((m) => (m.initramfs = { url, checksum })))).toEqual([])
      }
    }
    const rootfs = caddyWith((m) => {
      delete m.initramfs
      m.rootfs = { url: 'https://h/rootfs.img', format: 'qcow2' }
    })
    expect(validateManifest(rootfs)).toEqual([])
  })
})

describe('validateManifest rejects, naming the JSON path', () => {
  const cases: [string, (m: Json) => void, string, RegExp][] = [
    ['missing schema_version', (m) => delete m.schema_version, '$.schema_version', /required/],
    ['empty name', (m) => (m.name = ''), '$.name', /empty/],
    ['missing version', (m) => delete m.version, '$.version', /required/],
    ['empty runtime', (m) => (m.runtime = ''), '$.runtime', /empty/],
    ['missing resources', (m) => delete m.resources, '$.resources', /required/],
    ['missing workload', (m) => delete m.workload, '$.workload', /required/],
    ['neither initramfs nor rootfs', (m) => delete m.initramfs, '$', /exactly one.*neither/],
    ['both initramfs and rootfs', (m) => (m.rootfs = { url: '/r.img' }), '$', /exactly one.*both/],
    [
      'an unknown top-level key',
      (m) => (m.strategy = 'initramfs'),
      '$.strategy',
      /not an allowed key/
    ],
    ['enabled not a boolean', (m) => (m.enabled = 'yes'), '$.enabled', /must be a boolean/],
    ['cpu_cores 0', (m) => (m.resources.cpu_cores = 0), '$.resources.cpu_cores', /at least 1/],
    [
      'memory_mb not an integer',
      (m) => (m.resources.memory_mb = 1.5),
      '$.resources.memory_mb',
      /integer/
    ],
    ['memory_mb missing', (m) => delete m.resources.memory_mb, '$.resources.memory_mb', /required/],
    [
      'an extra resources key',
      (m) => (m.resources.disk_gb = 1),
      '$.resources.disk_gb',
      /not an allowed/
    ],
    [
      'workload type other than http',
      (m) => (m.workload.type = 'grpc'),
      '$.workload.type',
      /"http"/
    ],
    ['missing base_url', (m) => delete m.workload.base_url, '$.workload.base_url', /required/],
    [
      'base_url not a URL',
      (m) => (m.workload.base_url = 'localhost 80'),
      '$.workload.base_url',
      /URL/
    ],
    [
      'empty entrypoint list',
      (m) => (m.workload.entrypoint = []),
      '$.workload.entrypoint',
      /at least 1/
    ],
    [
      'entrypoint as a string (fledge)',
      (m) => (m.workload.entrypoint = '/usr/bin/caddy'),
      '$.workload.entrypoint',
      /array/
    ],
    [
      'empty first entrypoint',
      (m) => (m.workload.entrypoint = [' ', 'run']),
      '$.workload.entrypoint[0]',
      /empty/
    ],
    [
      'non-string entrypoint item',
      (m) => (m.workload.entrypoint = [1]),
      '$.workload.entrypoint[0]',
      /string/
    ],
    [
      'env value not a string',
      (m) => (m.workload.env.PORT = 8080),
      '$.workload.env.PORT',
      /string/
    ],
    [
      'args (fledge) in workload',
      (m) => (m.workload.args = ['x']),
      '$.workload.args',
      /not an allowed/
    ],
    [
      'negative health timeout',
      (m) => (m.health_check.timeout_ms = -1),
      '$.health_check.timeout_ms',
      /at least 0/
    ],
    [
      'health_check without endpoint',
      (m) => delete m.health_check.endpoint,
      '$.health_check.endpoint',
      /required/
    ],
    [
      'initramfs.format (fledge)',
      (m) => (m.initramfs.format = 'cpio.gz'),
      '$.initramfs.format',
      /not an allowed/
    ],
    ['initramfs without url', (m) => delete m.initramfs.url, '$.initramfs.url', /required/],
    [
      'initramfs url scheme',
      (m) => (m.initramfs.url = 'ftp://h/p.gz'),
      '$.initramfs.url',
      /http:\/\/, https:\/\/, file:\/\/ or \//
    ],
    [
      'relative initramfs url',
      (m) => (m.initramfs.url = 'plugin.cpio.gz'),
      '$.initramfs.url',
      /must start with/
    ],
    ['md5 checksum', (m) => (m.initramfs.checksum = 'md5:abc'), '$.initramfs.checksum', /sha256/],
    [
      'short sha256',
      (m) => (m.initramfs.checksum = 'sha256:' + 'a'.repeat(63)),
      '$.initramfs.checksum',
      /64 hex/
    ],
    [
      'action without method',
      (m) => (m.actions = { reload: { path: '/reload' } }),
      '$.actions.reload.method',
      /required/
    ],
    [
      'network mode',
      (m) => (m.network = { mode: 'nat' }),
      '$.network.mode',
      /"vsock", "bridged", "dhcp"/
    ],
    [
      'network.expose (fledge)',
      (m) => (m.network = { mode: 'bridged', expose: [] }),
      '$.network.expose',
      /not an allowed/
    ],
    [
      'label not a string',
      (m) => (m.labels = { 'team.name': 1 }),
      '$.labels["team.name"]',
      /string/
    ]
  ]

  it.each(cases)('%s', (_name, change, path, message) => {
    const problems = validateManifest(caddyWith(change))
    expect(problems.map((problem) => problem.path)).toEqual([path])
    expect(problems[0]?.message).toMatch(message)
  })

  it('rootfs format and checksum', () => {
    const problems = validateManifest(
      caddyWith((m) => {
        delete m.initramfs
        m.rootfs = { url: '/r.img', format: 'vmdk', checksum: 'x' }
      })
    )
    expect(problems.map((p) => p.path).sort()).toEqual(['$.rootfs.checksum', '$.rootfs.format'])
  })

  it.each([[[]], [null], ['{}']])('a manifest that is not an object: %j', (value) => {
    expect(validateManifest(value)).toEqual([{ path: '$', message: 'must be an object' }])
  })

  it('fledge’s own output shape fails on every point the consumer cares about', () => {
    const fledgeOutput = {
      schema_version: 'v1',
      name: 'nginx',
      version: '1.0.0',
      runtime: 'nginx',
      resources: { cpu_cores: 1, memory_mb: 256 },
      workload: { entrypoint: '/usr/sbin/nginx', args: ['-g', 'daemon off;'] },
      initramfs: {
        url: 'file:///w/plugin.cpio.gz',
        format: 'cpio.gz',
        checksum: 'sha256:' + 'b'.repeat(64)
      }
    }
    expect(
      validateManifest(fledgeOutput)
        .map((p) => p.path)
        .sort()
    ).toEqual([
      '$.initramfs.format',
      '$.workload.args',
      '$.workload.base_url',
      '$.workload.entrypoint',
      '$.workload.type'
    ])
  })
})

describe('assertValidManifest', () => {
  it('passes a valid manifest', () => {
    expect(() => assertValidManifest(load('caddy.json'), 'caddy.json')).not.toThrow()
  })

  it('reports every problem with the file and JSON path', () => {
    const manifest = caddyWith((m) => {
      delete m.workload.base_url
      m.resources.memory_mb = 0
    })
    let error: unknown
    try {
      assertValidManifest(manifest, 'manifest/caddy.json')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(FledgeErrors)
    const lines = (error as FledgeError).format().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines).toContainEqual(
      expect.stringMatching(/^manifest\/caddy\.json: \$\.workload\.base_url: is required\./)
    )
    expect(lines).toContainEqual(
      expect.stringMatching(/^manifest\/caddy\.json: \$\.resources\.memory_mb: must be at least 1/)
    )
  })
})
