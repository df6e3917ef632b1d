// Volant's kernel as the boot check's default: the bzImage of a volantvm/volant release,
// checked against GitHub's digest and the release's bzImage.sha256, cached by tag.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { resolveVolantKernel, volantKernelTag } from '../../src/sources/volant-kernel.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

const KERNEL = Buffer.from('MZ fake bzImage '.repeat(4096))
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

let github: GitHubServer
beforeAll(async () => {
  github = await startGitHubServer()
  const sums = Buffer.from(`${sha(KERNEL)}  bzImage\n`)
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.6.5', assets: [{ name: 'kestrel', data: Buffer.from('k') }, { name: 'bzImage', data: KERNEL }, { name: 'bzImage.sha256', data: sums }] })
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.6.6', assets: [{ name: 'bzImage', data: KERNEL }, { name: 'bzImage.sha256', data: Buffer.from(`${'0'.repeat(64)}  bzImage\n`) }] })
  github.addRelease({ owner: 'volantvm', repo: 'volant', tag: 'v0.6.7', assets: [{ name: 'kestrel', data: Buffer.from('k') }] })
})
afterAll(async () => github.close())

let cache = ''
beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-volant-kernel-'))
  process.env['RUNNER_TOOL_CACHE'] = cache
})
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }))

const network = { attempts: 2, retryBaseMs: 0, idleTimeoutMs: 5000, deadlineMs: 30_000 }
const context = () => ({ log: silentLogger, network, useCache: true, apiUrl: github.url })

describe("Volant's kernel", () => {
  it('reads kernel: volant and volant:<tag>', () => {
    expect(volantKernelTag('volant')).toBe('latest')
    expect(volantKernelTag('volant:v0.6.5')).toBe('v0.6.5')
    expect(volantKernelTag('/boot/vmlinuz')).toBeUndefined()
    expect(volantKernelTag(undefined)).toBeUndefined()
  })

  it('downloads the release’s bzImage, checks its bzImage.sha256, and a warm cache asks nothing', async () => {
    const first = await resolveVolantKernel('v0.6.5', context())
    expect(first).toMatchObject({ tag: 'v0.6.5', sha256: sha(KERNEL), cacheHit: false })
    expect(fs.readFileSync(first.path)).toEqual(KERNEL)
    const mark = github.requests.length
    const second = await resolveVolantKernel('v0.6.5', context())
    expect(second).toMatchObject({ sha256: sha(KERNEL), cacheHit: true })
    expect(github.requests.length).toBe(mark)
  })

  it('refuses a kernel whose bytes do not match the release’s bzImage.sha256', async () => {
    const error = await resolveVolantKernel('v0.6.6', context()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FledgeError)
    expect((error as FledgeError).format()).toMatch(/but its bzImage\.sha256 says 0{64}/)
  })

  it('names the assets of a release without a kernel', async () => {
    const error = await resolveVolantKernel('v0.6.7', context()).catch((e: unknown) => e)
    expect((error as FledgeError).format()).toMatch(/kernel: release v0\.6\.7 of volantvm\/volant has no asset named "bzImage" \(it has: kestrel\)/)
  })
})
