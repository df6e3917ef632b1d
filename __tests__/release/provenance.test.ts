import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AttestProvenanceOptions } from '@actions/attest'
import { readInputs } from '../../src/action/inputs.js'
import { runAction } from '../../src/action/run.js'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { attestBuild, type Attester } from '../../src/release/provenance.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OIDC = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't'
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Stops at the signing boundary: records what would be signed. */
function recordingAttester(calls: AttestProvenanceOptions[]): Attester {
  return async (options) => {
    calls.push(options)
    return { bundle: {} as never, certificate: 'cert', attestationID: '4242' }
  }
}

describe('provenance', () => {
  it('signs the image and manifest digests and reports the attestation URL', async () => {
    const calls: AttestProvenanceOptions[] = []
    const result = await attestBuild(
      {
        subjects: [{ name: 'plugin.cpio.gz', sha256: 'a'.repeat(64) }],
        token: 'tok',
        repository: 'o/r',
        serverUrl: 'https://github.com'
      },
      recordingAttester(calls),
      OIDC
    )
    expect(calls).toEqual([
      { subjects: [{ name: 'plugin.cpio.gz', digest: { sha256: 'a'.repeat(64) } }], token: 'tok' }
    ])
    expect(result).toEqual({ id: '4242', url: 'https://github.com/o/r/attestations/4242' })
  })

  it('without id-token: write: a clear message naming the permissions', async () => {
    const error = await attestBuild(
      { subjects: [], token: 't', repository: 'o/r', serverUrl: 'https://github.com' },
      recordingAttester([]),
      {}
    ).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toBe(
      'attest: attest is true, but the job cannot request an OIDC token (permission id-token: write is missing). Fix: add to the job: permissions: { id-token: write, attestations: write, contents: write }. Pull requests from forks cannot sign.'
    )
  })

  it('a 403 from the attestation store names attestations: write', async () => {
    const refusing: Attester = async () => {
      throw Object.assign(new Error('Resource not accessible by integration'), { status: 403 })
    }
    const error = await attestBuild(
      { subjects: [], token: 't', repository: 'o/r', serverUrl: 'https://github.com' },
      refusing,
      OIDC
    ).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(
      /permission attestations: write is missing\?.*Fix: add to the job: permissions: \{ id-token: write, attestations: write/
    )
  })

  it('the Action passes exactly the built image and manifest to @actions/attest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-attest-'))
    // The offline example (no agent download) with a manifest template beside it.
    fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
    fs.copyFileSync(
      path.join(REPO, 'examples/http-server/manifest.toml'),
      path.join(dir, 'manifest.toml')
    )
    const inputs = readInputs(
      (name) => ({ publish: 'false', attest: 'true', token: 'tok' })[name] ?? ''
    )
    const calls: AttestProvenanceOptions[] = []
    const saved = { ...process.env }
    Object.assign(process.env, OIDC)
    try {
      const result = await runAction(
        inputs,
        {
          eventName: 'push',
          ref: 'refs/heads/main',
          repository: 'o/r',
          serverUrl: 'https://github.com',
          apiUrl: 'http://127.0.0.1:1',
          workspace: dir,
          sha: '',
          sourceDateEpoch: undefined
        },
        silentLogger,
        recordingAttester(calls)
      )
      const image = fs.readFileSync(path.join(dir, 'plugin.cpio.gz'))
      const manifest = fs.readFileSync(path.join(dir, 'plugin.cpio.gz.manifest.json'))
      expect(calls[0]?.subjects).toEqual([
        { name: 'plugin.cpio.gz', digest: { sha256: sha(image) } },
        { name: 'plugin.cpio.gz.manifest.json', digest: { sha256: sha(manifest) } }
      ])
      expect(result.provenance?.url).toBe('https://github.com/o/r/attestations/4242')
    } finally {
      process.env = saved
    }
  })
})
