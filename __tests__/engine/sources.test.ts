import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { resolveAgent } from '../../src/sources/agent.js'
import { resolveBusybox } from '../../src/sources/busybox.js'
import type { NetworkOptions } from '../../src/sources/http.js'
import { startFileServer, type FileServer } from '../support/file-server.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

const network: NetworkOptions = { attempts: 3, retryBaseMs: 0, idleTimeoutMs: 5000, deadlineMs: 30_000 }
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const BUSYBOX = Buffer.from('#!fake busybox\n'.repeat(100))
const AGENT = Buffer.from('\x7fELF fake kestrel')

let files: FileServer
let github: GitHubServer

beforeAll(async () => {
  files = await startFileServer()
  github = await startGitHubServer()
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.5.0', assets: [{ name: 'README.md', data: Buffer.from('x') }] })
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.6.0', assets: [{ name: 'kestrel', data: AGENT }] })
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.7.0', assets: [{ name: 'kestrel', data: Buffer.from('v7') }] })
})
afterAll(async () => {
  await files.close()
  await github.close()
})

/** Each test gets an empty tool cache. */
beforeEach(() => {
  process.env['RUNNER_TOOL_CACHE'] = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-tc-'))
  files.requests.length = 0
  files.routes.clear()
})

const context = () => ({ log: silentLogger, network, useCache: true })
const agentContext = () => ({ ...context(), apiUrl: github.url })

describe('busybox', () => {
  it('downloads, verifies, caches under its sha256; the second resolve makes no request', async () => {
    files.routes.set('/busybox', BUSYBOX)
    const spec = { url: `${files.url}/busybox`, sha256: sha(BUSYBOX), pinned: true }
    const first = await resolveBusybox(spec, context())
    expect(first).toMatchObject({ cacheHit: false, sha256: sha(BUSYBOX), size: BUSYBOX.length })
    expect(fs.readFileSync(first.path)).toEqual(BUSYBOX)
    const second = await resolveBusybox(spec, context())
    expect(second.cacheHit).toBe(true)
    expect(files.requests).toEqual(['/busybox'])
  })

  it('retries 5xx and a connection reset, then succeeds', async () => {
    files.routes.set('/busybox', [{ status: 502 }, { reset: true }, BUSYBOX])
    const got = await resolveBusybox({ url: `${files.url}/busybox`, sha256: sha(BUSYBOX), pinned: true }, context())
    expect(got.sha256).toBe(sha(BUSYBOX))
    expect(files.requests).toHaveLength(3)
  })

  it('a truncated body is retried, not accepted', async () => {
    files.routes.set('/busybox', [{ truncate: BUSYBOX }, BUSYBOX])
    const got = await resolveBusybox({ url: `${files.url}/busybox`, pinned: false }, context())
    expect(got.sha256).toBe(sha(BUSYBOX))
    expect(files.requests).toHaveLength(2)
  })

  it('a checksum mismatch fails clearly and caches nothing', async () => {
    files.routes.set('/busybox', BUSYBOX)
    const wrong = 'f'.repeat(64)
    const error = await resolveBusybox({ url: `${files.url}/busybox`, sha256: wrong, pinned: true }, context()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(
      new RegExp(`sha256 mismatch for busybox from .*: expected ${wrong}, got ${sha(BUSYBOX)}\\. Fix: `)
    )
    expect(fs.readdirSync(process.env['RUNNER_TOOL_CACHE'] as string)).toEqual([])
  })

  it('404 fails without retrying and says the URL does not exist', async () => {
    const error = await resolveBusybox({ url: `${files.url}/nope`, pinned: false }, context()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(/could not download busybox from .*\/nope: HTTP 404\. Fix: the URL does not exist/)
    expect(files.requests).toEqual(['/nope'])
  })

  it('an unpinned URL warns with the sha256 to pin', async () => {
    files.routes.set('/busybox', BUSYBOX)
    const warnings: string[] = []
    await resolveBusybox({ url: `${files.url}/busybox`, pinned: false }, { ...context(), log: { ...silentLogger, warn: (m) => warnings.push(m) } })
    expect(warnings).toEqual([`busybox_url has no busybox_sha256, so the download was not verified. Pin it: busybox_sha256 = "${sha(BUSYBOX)}"`])
  })

  it('file:// URLs work offline', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-bb-'))
    fs.writeFileSync(path.join(dir, 'busybox'), BUSYBOX)
    const got = await resolveBusybox({ url: `file://${dir}/busybox`, sha256: sha(BUSYBOX), pinned: true }, context())
    expect(fs.readFileSync(got.path)).toEqual(BUSYBOX)
  })
})

describe('agent', () => {
  it('release with a tag: verified against the asset digest, cached; warm cache makes zero requests', async () => {
    const before = github.requests.length
    const first = await resolveAgent({ strategy: 'release', version: 'v0.6.0', repository: 'volantvm/volant' }, agentContext())
    expect(first).toMatchObject({ tag: 'v0.6.0', sha256: sha(AGENT), cacheHit: false })
    expect(github.requests.length).toBeGreaterThan(before)
    const mark = github.requests.length
    const second = await resolveAgent({ strategy: 'release', version: 'v0.6.0', repository: 'volantvm/volant' }, agentContext())
    expect(second).toMatchObject({ tag: 'v0.6.0', cacheHit: true })
    expect(github.requests.length).toBe(mark)
    expect(github.violations).toEqual([])
  })

  it('"latest" resolves to the concrete tag with one API call when cached', async () => {
    const latest = { strategy: 'release', version: 'latest', repository: 'volantvm/volant' } as const
    const first = await resolveAgent(latest, agentContext())
    expect(first).toMatchObject({ tag: 'v0.7.0', sha256: sha(Buffer.from('v7')), cacheHit: false })
    const mark = github.requests.length
    const second = await resolveAgent(latest, agentContext())
    expect(second).toMatchObject({ tag: 'v0.7.0', cacheHit: true })
    expect(github.requests.slice(mark).map((r) => r.operationId)).toEqual(['repos/get-latest-release'])
  })

  it('a release without the kestrel asset names the assets it has', async () => {
    const error = await resolveAgent({ strategy: 'release', version: 'v0.5.0', repository: 'volantvm/volant' }, agentContext()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(/release v0\.5\.0 of volantvm\/volant has no asset named "kestrel" \(it has: README\.md\)/)
  })

  it('a missing tag is a clear error', async () => {
    const error = await resolveAgent({ strategy: 'release', version: 'v9.9.9', repository: 'volantvm/volant' }, agentContext()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(/volantvm\/volant has no release "v9\.9\.9"/)
  })

  it('a digest mismatch from the release is refused', async () => {
    github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.6.1', assets: [{ name: 'kestrel', data: AGENT, digest: `sha256:${'0'.repeat(64)}` }] })
    const error = await resolveAgent({ strategy: 'release', version: 'v0.6.1', repository: 'volantvm/volant' }, agentContext()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(/sha256 mismatch for the agent \(v0\.6\.1\)/)
  })

  it('http with checksum is cached by content; without, it warns with the checksum to pin', async () => {
    files.routes.set('/kestrel', AGENT)
    const warnings: string[] = []
    const log = { ...silentLogger, warn: (m: string) => warnings.push(m) }
    await resolveAgent({ strategy: 'http', url: `${files.url}/kestrel` }, { ...agentContext(), log })
    expect(warnings[0]).toContain(`checksum = "sha256:${sha(AGENT)}"`)
    await resolveAgent({ strategy: 'http', url: `${files.url}/kestrel`, sha256: sha(AGENT) }, agentContext())
    expect(files.requests).toEqual(['/kestrel'])
  })

  it('local: a missing file is a clear error', async () => {
    await expect(resolveAgent({ strategy: 'local', path: '/nonexistent/kestrel' }, agentContext())).rejects.toThrow(
      /agent file not found: \/nonexistent\/kestrel/
    )
  })
})
