/**
 * The consumer contract, checked with volant's own code: every manifest this project writes
 * (generated from manifest.toml, rewritten from the author's JSON) decodes, normalizes,
 * validates and stages against the image it was built for with volant's internal/pluginspec,
 * and our volant.manifest= is byte for byte what volantd would put on the command line. A table
 * of edge manifests shows that our validator accepts exactly what volant accepts and can boot.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { generateManifestFromToml } from '../../src/manifest/generate.js'
import { rewriteManifest } from '../../src/manifest/rewrite.js'
import { validateManifestText } from '../../src/manifest/validate.js'
import { encodeVolantManifest } from '../../src/manifest/volant-encode.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import {
  buildExample,
  buildVolantContract,
  REPO,
  volantRelease,
  type BuiltExample,
  type VolantContract
} from '../support/volant.js'

let contract: VolantContract
let github: GitHubServer
let work: string
let built: BuiltExample

beforeAll(async () => {
  contract = buildVolantContract()
  github = await startGitHubServer()
  github.addRelease(volantRelease())
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'volant-contract-test-'))
  built = await buildExample('http-server', path.join(work, 'http-server'), github.url)
}, 300_000)

afterAll(async () => {
  contract?.dispose()
  await github?.close()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

function writeJson(name: string, text: string): string {
  const file = path.join(work, name)
  fs.writeFileSync(file, text)
  return file
}

/** Volant's verdict and ours agree, and where volant accepts, the encodings are identical. */
function expectAgreement(file: string, image: string, expectedOk: boolean): void {
  const text = fs.readFileSync(file, 'utf8')
  const volant = contract.check(file, image)
  const ours = validateManifestText(text)
  expect({ volantOk: volant.failed_at === undefined, oursOk: ours.length === 0 }).toEqual({
    volantOk: expectedOk,
    oursOk: expectedOk
  })
  if (volant.encoded !== undefined && ours.length === 0) {
    expect(encodeVolantManifest(text)).toBe(volant.encoded)
  }
}

describe('every manifest the project writes passes volant’s own code', () => {
  it('examples/http-server: generated from manifest.toml, staged against the built image', () => {
    const manifest = built.manifest as string
    const text = fs.readFileSync(manifest, 'utf8')
    expect(JSON.parse(text).initramfs).toEqual({
      url: built.image,
      checksum: `sha256:${built.sha256}`
    })
    const volant = contract.check(manifest)
    expect(volant).toEqual({ encoded: encodeVolantManifest(text) })
  })

  it('examples/caddy and the seeds’ JSON manifests: rewritten for a release, staged against the image', () => {
    const url = 'https://github.com/volantvm/example/releases/download/v1.0.0/plugin.cpio.gz'
    for (const source of [
      path.join(REPO, 'examples/caddy/manifest/caddy.json'),
      path.join(REPO, '__tests__/fixtures/manifest/caddy.json'),
      path.join(REPO, '__tests__/fixtures/manifest/webserver.manifest.json')
    ]) {
      const rewritten = rewriteManifest(fs.readFileSync(source, 'utf8'), {
        checksum: built.sha256,
        url
      })
      const file = writeJson(`rewritten-${path.basename(source)}`, rewritten)
      expect([source, contract.check(file, built.image)]).toEqual([
        source,
        { encoded: encodeVolantManifest(rewritten) }
      ])
      expect(validateManifestText(rewritten)).toEqual([])
    }
  })

  it('the seeds’ manifest.toml template: generated, staged against the image', () => {
    // nginx-fledge.manifest.toml has no base_url: generation refuses it (no manifest is written).
    for (const name of ['webserver.manifest.toml']) {
      const source = path.join(REPO, '__tests__/fixtures/manifest', name)
      const { json } = generateManifestFromToml(fs.readFileSync(source, 'utf8'), source, {
        url: built.image,
        checksum: built.sha256
      })
      const file = writeJson(`generated-${name}.json`, json)
      expect([name, contract.check(file)]).toEqual([name, { encoded: encodeVolantManifest(json) }])
    }
  })

  it('a checksum that is not the image’s fails volant’s staging (the contract test can see it)', () => {
    const text = fs
      .readFileSync(built.manifest as string, 'utf8')
      .replace(built.sha256, 'f'.repeat(64))
    expect(contract.check(writeJson('wrong-sum.json', text))).toMatchObject({
      failed_at: 'stage',
      error: expect.stringMatching(/checksum mismatch/)
    })
  })
})

describe('our validator accepts what volant accepts and can boot, and nothing else', () => {
  const base = () => ({
    schema_version: '1.0',
    name: 'edge',
    version: '1.0.0',
    runtime: 'edge',
    enabled: true,
    initramfs: { url: built.image, checksum: `sha256:${built.sha256}` },
    resources: { cpu_cores: 1, memory_mb: 256 },
    workload: {
      type: 'http',
      base_url: 'http://127.0.0.1:80',
      entrypoint: ['/usr/bin/http-server']
    },
    health_check: { endpoint: '/healthz.txt', timeout_ms: 10000 }
  })
  type Manifest = ReturnType<typeof base> & Record<string, unknown>
  const cases: [string, (m: Manifest) => unknown, boolean][] = [
    ['the base manifest', (m) => m, true],
    [
      'no schema_version, no runtime (volant defaults it to name)',
      (m) => ({ ...m, schema_version: undefined, runtime: undefined }),
      true
    ],
    [
      'unknown keys anywhere (ignored)',
      (m) => ({
        ...m,
        strategy: 'x',
        workload: { ...m.workload, args: ['a'] },
        initramfs: { ...m.initramfs, format: 'cpio.gz' }
      }),
      true
    ],
    [
      'field names in another case (encoding/json folds case)',
      (m) => ({ ...m, name: undefined, Name: 'edge' }),
      true
    ],
    [
      'bare and upper-case checksum',
      (m) => ({ ...m, initramfs: { ...m.initramfs, checksum: built.sha256.toUpperCase() } }),
      true
    ],
    [
      'white space volant trims; env, labels, actions; HTML and line-separator characters',
      (m) => ({
        ...m,
        name: ' edge ',
        labels: { 'z.team': ' <ops & dev> ', 'a.β': 'x\u2028y' },
        workload: {
          ...m.workload,
          entrypoint: [' /usr/bin/http-server ', '', '--flag'],
          env: { ' PORT ': ' 80 ', ZED: 'é😀' },
          workdir: ' / '
        },
        actions: {
          ' reload ': { method: ' POST ', path: '/reload', timeout_ms: 5 },
          build: { method: 'GET', path: '/b' }
        }
      }),
      true
    ],
    [
      'network, cloud_init, disks, devices, openapi, image',
      (m) => ({
        ...m,
        network: { mode: ' Bridged ', subnet: '10.1.0.0/24', auto_assign: true },
        cloud_init: { user_data: { inline: true, content: '#cloud-config\n' } },
        disks: [{ name: 'data', source: '/d.img', format: 'RAW' }],
        devices: { allowlist: ['10de:*'] },
        openapi: '/openapi.json',
        image: 'ghcr.io/x/y:1'
      }),
      true
    ],
    ['a UTF-8 BOM', (m) => `\uFEFF${JSON.stringify(m)}`, false],
    [
      'a string entrypoint (fledge’s shape)',
      (m) => ({ ...m, workload: { ...m.workload, entrypoint: '/usr/bin/http-server' } }),
      false
    ],
    [
      'cpu_cores as a string',
      (m) => ({ ...m, resources: { ...m.resources, cpu_cores: '1' } }),
      false
    ],
    [
      'fractional memory_mb',
      (m) => ({ ...m, resources: { ...m.resources, memory_mb: 1.5 } }),
      false
    ],
    ['cpu_cores 0', (m) => ({ ...m, resources: { ...m.resources, cpu_cores: 0 } }), false],
    [
      'a sha512 checksum (fails at VM start)',
      (m) => ({ ...m, initramfs: { ...m.initramfs, checksum: `sha512:${'a'.repeat(128)}` } }),
      false
    ],
    [
      'a file:// initramfs URL (fails at VM start)',
      (m) => ({ ...m, initramfs: { ...m.initramfs, url: `file://${built.image}` } }),
      false
    ],
    [
      'a relative initramfs URL',
      (m) => ({ ...m, initramfs: { ...m.initramfs, url: 'plugin.cpio.gz' } }),
      false
    ],
    ['no initramfs and no rootfs', (m) => ({ ...m, initramfs: undefined }), false],
    ['white-space name', (m) => ({ ...m, name: '   ' }), false],
    ['no workload type', (m) => ({ ...m, workload: { ...m.workload, type: undefined } }), false],
    ['workload type grpc', (m) => ({ ...m, workload: { ...m.workload, type: 'grpc' } }), false],
    ['no base_url', (m) => ({ ...m, workload: { ...m.workload, base_url: undefined } }), false],
    ['an empty entrypoint', (m) => ({ ...m, workload: { ...m.workload, entrypoint: [] } }), false],
    ['an action without method', (m) => ({ ...m, actions: { reload: { path: '/r' } } }), false],
    ['network mode nat', (m) => ({ ...m, network: { mode: 'nat' } }), false]
  ]

  it.each(cases)('%s', (name, change, ok) => {
    const value = change(base())
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    const file = writeJson(`edge-${name.replace(/[^a-z0-9]+/gi, '-')}.json`, text)
    expectAgreement(file, built.image, ok)
  })

  it('stricter than volant on purpose: a workload on 8080 installs, then kestrel halts at boot', () => {
    const text = JSON.stringify({
      ...base(),
      workload: { ...base().workload, base_url: 'http://127.0.0.1:8080' }
    })
    const file = writeJson('edge-8080.json', text)
    expect(contract.check(file).failed_at).toBeUndefined()
    expect(validateManifestText(text)).toEqual([
      {
        path: '$.workload.base_url',
        message: expect.stringMatching(/^uses port 8080, kestrel's own port/)
      }
    ])
  })
})
