import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FledgeError, FledgeErrors } from '../../src/errors.js'
import { assertValidManifest, ignoredKeys, validateManifest } from '../../src/manifest/validate.js'

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

describe('validateManifest accepts what volant accepts and can boot', () => {
  it('caddy.json (seed)', () => {
    expect(validateManifest(load('caddy.json'))).toEqual([])
  })

  it('myapp.json (seed) is refused: its workload listens on 8080, kestrel’s port', () => {
    expect(validateManifest(load('myapp.json'))).toEqual([
      {
        path: '$.workload.base_url',
        message: expect.stringMatching(/^uses port 8080, kestrel's own port/)
      }
    ])
  })

  it('what volant’s decoder accepts: no schema_version, no runtime, health_check without fields', () => {
    const lenient = caddyWith((m) => {
      delete m.schema_version
      delete m.runtime
      m.health_check = {}
    })
    expect(validateManifest(lenient)).toEqual([])
  })

  it('a rootfs manifest, checksums in every accepted form, every URL volant can stage', () => {
    for (const checksum of ['sha256:' + 'a'.repeat(64), 'A'.repeat(64)]) {
      for (const url of ['http://h/p', 'https://h/p', '/p']) {
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
    ['empty name', (m) => (m.name = ''), '$.name', /empty/],
    ['missing version', (m) => delete m.version, '$.version', /required/],
    ['missing resources', (m) => delete m.resources, '$.resources', /required/],
    ['missing workload', (m) => delete m.workload, '$.workload', /required/],
    ['neither initramfs nor rootfs', (m) => delete m.initramfs, '$', /exactly one.*neither/],
    ['both initramfs and rootfs', (m) => (m.rootfs = { url: '/r.img' }), '$', /exactly one.*both/],
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
      'negative health timeout',
      (m) => (m.health_check.timeout_ms = -1),
      '$.health_check.timeout_ms',
      /at least 0/
    ],
    ['initramfs without url', (m) => delete m.initramfs.url, '$.initramfs.url', /required/],
    [
      'initramfs url scheme',
      (m) => (m.initramfs.url = 'ftp://h/p.gz'),
      '$.initramfs.url',
      /must be an http\(s\) URL or an absolute path/
    ],
    [
      'file:// initramfs url (fails when the VM starts)',
      (m) => (m.initramfs.url = 'file:///srv/plugin.cpio.gz'),
      '$.initramfs.url',
      /file:\/\/ URL, which volant accepts at install but cannot open when the VM starts.*"\/srv\/plugin\.cpio\.gz"/
    ],
    [
      'workload on 8080, kestrel’s port',
      (m) => (m.workload.base_url = 'http://0.0.0.0:8080/'),
      '$.workload.base_url',
      /uses port 8080, kestrel's own port in the guest/
    ],
    ['white-space name', (m) => (m.name = '  '), '$.name', /white space/],
    [
      'relative initramfs url',
      (m) => (m.initramfs.url = 'plugin.cpio.gz'),
      '$.initramfs.url',
      /must be an http\(s\) URL or an absolute path/
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
      '$.initramfs.url',
      '$.workload.base_url',
      '$.workload.entrypoint',
      '$.workload.type'
    ])
    expect(ignoredKeys(fledgeOutput).sort()).toEqual(['$.initramfs.format', '$.workload.args'])
  })
})

describe('ignoredKeys: what volant’s decoder drops, noted instead of refused', () => {
  it('lists unknown keys at the top and in the closed objects, matching case-insensitively as Go does', () => {
    const manifest = caddyWith((m) => {
      m.strategy = 'initramfs'
      m.resources.gpus = 1
      m.workload.args = ['x']
      m.initramfs.format = 'cpio.gz'
      m.network = { mode: 'bridged', expose: [] }
      m.Name = m.name
    })
    expect(validateManifest(manifest)).toEqual([])
    expect(ignoredKeys(manifest).sort()).toEqual([
      '$.initramfs.format',
      '$.network.expose',
      '$.resources.gpus',
      '$.strategy',
      '$.workload.args'
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
