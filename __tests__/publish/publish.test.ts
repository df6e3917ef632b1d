// The real GitHubReleaser + publishRelease (real octokit, real HTTP) against the fake
// GitHub on 127.0.0.1, which checks every request against GitHub's OpenAPI description.
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { FledgeError } from '../../src/errors.js'
import { BODY_BEGIN, BODY_END } from '../../src/publish/release-body.js'
import { publishRelease } from '../../src/publish/publish.js'
import {
  startGitHubServer,
  type GitHubServer,
  type StoredAsset
} from '../support/github-server.js'
import {
  OWNER,
  REPO,
  TAG,
  UPLOADS,
  buildFiles,
  calls,
  download,
  harness,
  request,
  writeFile,
  type BuiltFile
} from './fixture.js'

let server: GitHubServer
let image: BuiltFile
let manifest: BuiltFile

beforeEach(async () => {
  server = await startGitHubServer()
  ;({ image, manifest } = buildFiles())
})

afterEach(async () => {
  const violations = server.violations
  const unused = server.unusedFaults()
  await server.close()
  expect(violations).toEqual([])
  expect(unused).toEqual([]) // a fault that never fired would make its test prove nothing
})

const onlyRelease = () => {
  const releases = server.releases(OWNER, REPO)
  expect(releases).toHaveLength(1)
  return releases[0]!
}

/** The release's assets as name → sha256 of their bytes, failing on duplicates or half-made ones.
 * (Hashes, because jest compares megabyte Buffers byte by byte, slowly.) */
const storedAssets = () => {
  const assets = onlyRelease().assets
  expect(new Set(assets.map((a) => a.name)).size).toBe(assets.length)
  expect(assets.map((a) => a.state)).toEqual(assets.map(() => 'uploaded'))
  return Object.fromEntries(assets.map((a) => [a.name, sha256(a.data)]))
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')
const built = (...files: BuiltFile[]) => Object.fromEntries(files.map((f) => [f.name, f.sha256]))

const uploadCount = (name: string) =>
  server.requests.filter(
    (r) => r.operationId === 'repos/upload-release-asset' && r.query['name'] === name
  ).length

describe('publishRelease against a GitHub-compatible server', () => {
  it('creates the first release for a tag as a draft, uploads, then publishes', async () => {
    const h = harness(server)
    const result = await publishRelease(h.releaser, request([image, manifest]), h.options)

    expect(calls(server)).toEqual([
      'GET repos/get-release-by-tag 404',
      'GET repos/list-releases 200',
      'POST repos/create-release 201',
      'GET repos/get-release-by-tag 404', // settling: did another job create one too?
      'GET repos/list-releases 200',
      'POST repos/upload-release-asset 201',
      'POST repos/upload-release-asset 201',
      'GET repos/list-release-assets 200', // both listed with our digests before publishing
      'GET repos/get-latest-release 404', // no higher version is Latest: this one may be
      'PATCH repos/update-release 200'
    ])
    const writes = server.writeRequests()
    expect(writes[0]!.json).toMatchObject({ tag_name: TAG, draft: true })
    expect(writes.slice(1, 3).map((r) => [r.host, r.query['name'], r.bodyLength])).toEqual([
      ['uploads', 'plugin.cpio.gz', image.data.length],
      ['uploads', 'manifest.json', manifest.data.length]
    ])
    expect(writes[3]!.json).toMatchObject({ draft: false, make_latest: 'true' })

    const release = onlyRelease()
    expect(release).toMatchObject({ tagName: TAG, draft: false, name: `example-plugin ${TAG}` })
    expect(release.body).toBe(`${BODY_BEGIN}\nBuilt by fledge-action.\n${BODY_END}`)
    expect(storedAssets()).toEqual(built(image, manifest))

    expect(result).toMatchObject({ releaseId: release.id, created: true })
    expect(result.htmlUrl).toBe(`${server.url}/${OWNER}/${REPO}/releases/tag/${TAG}`)
    expect(result.uploadUrl).toBe(
      `${server.uploadsUrl}/repos/${OWNER}/${REPO}/releases/${release.id}/assets{?name,label}`
    )
    expect(result.assets.map((a) => [a.name, a.digest, a.size])).toEqual([
      ['plugin.cpio.gz', `sha256:${image.sha256}`, image.data.length],
      ['manifest.json', `sha256:${manifest.sha256}`, manifest.data.length]
    ])
    // The published URLs, not the draft's untagged ones, and they serve the bytes.
    expect(result.assets[0]!.url).toBe(
      `${server.url}/${OWNER}/${REPO}/releases/download/${TAG}/plugin.cpio.gz`
    )
    expect(sha256(await download(result.assets[0]!.url))).toBe(image.sha256)
    expect(h.warnings).toEqual([])
  })

  it('re-running replaces the assets and leaves one release with one copy of each', async () => {
    const h = harness(server)
    const first = await publishRelease(h.releaser, request([image, manifest]), h.options)
    const rebuilt = buildFiles()
    const requestsBefore = server.requests.length
    const second = await publishRelease(
      h.releaser,
      request([rebuilt.image, rebuilt.manifest]),
      h.options
    )

    expect(second).toMatchObject({ releaseId: first.releaseId, created: false })
    expect(storedAssets()).toEqual(built(rebuilt.image, rebuilt.manifest))
    expect(second.assets.map((a) => a.id)).not.toEqual(first.assets.map((a) => a.id))
    expect(calls(server).slice(requestsBefore)).toEqual([
      'GET repos/get-release-by-tag 200',
      'GET repos/list-release-assets 200',
      'DELETE repos/delete-release-asset 204',
      'POST repos/upload-release-asset 201',
      'DELETE repos/delete-release-asset 204',
      'POST repos/upload-release-asset 201',
      'GET repos/list-release-assets 200',
      'PATCH repos/update-release 200'
    ])
    expect(onlyRelease().body).toBe(`${BODY_BEGIN}\nBuilt by fledge-action.\n${BODY_END}`)
  })

  it('uses a draft that already exists for the tag, keeping the author text and other assets', async () => {
    const seeded = server.addRelease({
      owner: OWNER,
      repo: REPO,
      tag: TAG,
      draft: true,
      body: 'Hand-written highlights.',
      assets: [
        { name: 'plugin.cpio.gz', data: Buffer.from('stale') },
        { name: 'NOTICE.txt', data: Buffer.from('keep me') }
      ]
    })
    const h = harness(server)
    const result = await publishRelease(
      h.releaser,
      request([image, manifest], { makeLatest: 'true' }),
      h.options
    )

    expect(result).toMatchObject({ releaseId: seeded.id, created: false })
    expect(server.requests.some((r) => r.operationId === 'repos/create-release')).toBe(false)
    expect(storedAssets()).toEqual({
      'NOTICE.txt': sha256(Buffer.from('keep me')),
      ...built(image, manifest)
    })
    const release = onlyRelease()
    expect(release.draft).toBe(false)
    expect(release.body).toBe(
      `Hand-written highlights.\n\n${BODY_BEGIN}\nBuilt by fledge-action.\n${BODY_END}`
    )
    expect(server.writeRequests().at(-1)!.json).toMatchObject({ draft: false, make_latest: 'true' })
  })

  it('retries an upload that fails with 502 twice, then succeeds', async () => {
    server.inject({
      method: 'POST',
      path: UPLOADS,
      times: 2,
      fault: { status: 502, leaveStarterAsset: true }
    })
    const h = harness(server)
    const result = await publishRelease(h.releaser, request([image, manifest]), h.options)

    expect(uploadCount('plugin.cpio.gz')).toBe(3)
    expect(h.sleeps).toEqual([10, 20]) // exponential backoff from baseDelayMs
    expect(storedAssets()).toEqual(built(image, manifest))
    expect(result.assets[0]!.digest).toBe(`sha256:${image.sha256}`)
    // The empty "starter" asset each 502 left behind was deleted before the next try.
    expect(
      server.requests.filter((r) => r.operationId === 'repos/delete-release-asset')
    ).toHaveLength(2)
  })

  it('cleans up the half-made asset a connection reset leaves, and uploads again', async () => {
    server.inject({ method: 'POST', path: UPLOADS, fault: { reset: 'midway' } })
    const h = harness(server)
    await publishRelease(h.releaser, request([image, manifest]), h.options)

    const broken = server.requests.find((r) => r.fault === 'reset midway')!
    expect(broken.bodyLength).toBeGreaterThan(0)
    expect(broken.bodyLength).toBeLessThan(image.data.length)
    expect(calls(server).slice(5, 9)).toEqual([
      'POST repos/upload-release-asset', // reset: no status
      'GET repos/list-release-assets 200',
      'DELETE repos/delete-release-asset 204',
      'POST repos/upload-release-asset 201'
    ])
    expect(storedAssets()).toEqual(built(image, manifest))
    expect(h.warnings.join('\n')).toMatch(/upload of plugin.cpio.gz failed: .*retrying/)
  })

  it('retries when the connection is reset before any answer', async () => {
    server.inject({ method: 'PATCH', path: /\/releases\/\d+$/, fault: { reset: 'before' } })
    const h = harness(server)
    await publishRelease(h.releaser, request([image]), h.options)
    expect(server.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([
      undefined,
      200
    ])
    expect(onlyRelease().draft).toBe(false)
  })

  it('uses the release another job created between lookup and create (422 on create)', async () => {
    let racer: number | undefined
    server.inject({
      method: 'POST',
      path: `/repos/${OWNER}/${REPO}/releases`,
      fault: {
        beforeHandling: () =>
          void (racer = server.addRelease({ owner: OWNER, repo: REPO, tag: TAG, draft: true }).id)
      }
    })
    const h = harness(server)
    const result = await publishRelease(h.releaser, request([image, manifest]), h.options)

    expect(server.requests.find((r) => r.operationId === 'repos/create-release')!.status).toBe(422)
    expect(result).toMatchObject({ releaseId: racer, created: false })
    expect(onlyRelease()).toMatchObject({ id: racer, draft: false })
    expect(storedAssets()).toEqual(built(image, manifest))
  })

  it('replaces an asset that appears during the upload (422 already_exists)', async () => {
    let other: StoredAsset | undefined
    server.inject({
      method: 'POST',
      path: UPLOADS,
      fault: {
        beforeHandling: () => {
          other = server.addAsset(server.releases(OWNER, REPO)[0]!, {
            name: 'plugin.cpio.gz',
            data: Buffer.from('other job')
          })
        }
      }
    })
    const h = harness(server)
    await publishRelease(h.releaser, request([image, manifest]), h.options)

    const uploads = server.requests.filter((r) => r.operationId === 'repos/upload-release-asset')
    expect(uploads.map((r) => r.status)).toEqual([422, 201, 201])
    expect(
      server.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/assets/${other!.id}`))
    ).toBe(true)
    expect(storedAssets()).toEqual(built(image, manifest))
  })

  it('explains a 403 as a missing contents: write permission, without retrying', async () => {
    server.inject({
      method: 'POST',
      path: `/repos/${OWNER}/${REPO}/releases`,
      fault: {
        status: 403,
        body: { message: 'Resource not accessible by integration', documentation_url: 'x' }
      }
    })
    const h = harness(server)
    const failure = await publishRelease(h.releaser, request([image]), h.options).catch(
      (e: unknown) => e
    )

    expect(failure).toBeInstanceOf(FledgeError)
    const error = failure as FledgeError
    expect(error.message).toMatch(
      /create a draft release for tag v1\.2\.0.*Resource not accessible by integration.*contents: write/
    )
    expect(error.message).not.toContain('\n')
    expect(error.fix).toMatch(/permissions: contents: write/)
    expect(error.fix).toMatch(/forks/)
    expect(server.requests.filter((r) => r.operationId === 'repos/create-release')).toHaveLength(1)
    expect(h.sleeps).toEqual([])
  })

  it('fails when the digest GitHub reports does not match the file built, without publishing', async () => {
    server.reportWrongDigestOnNextUpload()
    const h = harness(server)
    const failure = await publishRelease(h.releaser, request([image, manifest]), h.options).catch(
      (e: unknown) => e
    )

    expect(failure).toBeInstanceOf(FledgeError)
    expect((failure as FledgeError).message).toContain(`sha256:${image.sha256}`)
    expect((failure as FledgeError).message).toContain('sha256:0000')
    const release = onlyRelease()
    expect(release.draft).toBe(true)
    expect(release.assets.map((a) => a.name)).toEqual([]) // the mismatching asset was removed
    expect(server.requests.some((r) => r.operationId === 'repos/update-release')).toBe(false)
  })

  it('waits for a digest GitHub lists only after a while, then publishes', async () => {
    server.inject({ method: 'POST', path: UPLOADS, fault: { digest: null } })
    const LIST = /\/releases\/\d+\/assets$/
    server.inject({ method: 'GET', path: LIST, times: 2, fault: { delayMs: 0 } }) // two lists without
    server.inject({
      method: 'GET',
      path: LIST,
      fault: { beforeHandling: () => void (onlyRelease().assets[0]!.digest = `sha256:${image.sha256}`) }
    })
    const h = harness(server)
    const result = await publishRelease(h.releaser, request([image]), h.options)
    expect(h.sleeps).toEqual([1_000, 2_000])
    expect(result.assets[0]!.digest).toBe(`sha256:${image.sha256}`)
    expect(onlyRelease().draft).toBe(false)
  })

  it.each([
    ['answers 201 but the asset never appears', { vanish: true } as const, /"plugin\.cpio\.gz" is missing from its asset list/],
    ['lists the asset without a digest', { digest: null }, /"plugin\.cpio\.gz" has no digest to check/]
  ])('leaves the release a draft and fails when GitHub %s', async (_, fault, message) => {
    server.inject({ method: 'POST', path: UPLOADS, fault })
    const h = harness(server)
    const failure = await publishRelease(h.releaser, request([image, manifest]), h.options).catch(
      (e: unknown) => e
    )
    expect(failure).toBeInstanceOf(FledgeError)
    const error = failure as FledgeError
    expect(error.message).toMatch(message)
    expect(error.message).toMatch(/after 5 looks over 15 s .* on release v1\.2\.0; the release was left a draft\./)
    expect(error.message).not.toMatch(/manifest\.json/) // that one was verified
    expect(error.location.key).toBe('plugin.cpio.gz')
    expect(error.fix).toMatch(/re-run the job/)
    expect(h.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]) // bounded: five lists with backoff
    expect(server.requests.filter((r) => r.operationId === 'repos/list-release-assets')).toHaveLength(5)
    expect(onlyRelease().draft).toBe(true)
    expect(server.requests.some((r) => r.operationId === 'repos/update-release')).toBe(false)
  })

  it('waits as long as retry-after says on 429', async () => {
    server.inject({
      method: 'POST',
      path: UPLOADS,
      fault: { status: 429, headers: { 'retry-after': '2' } }
    })
    const h = harness(server)
    await publishRelease(h.releaser, request([image]), h.options)
    expect(h.sleeps).toEqual([2000])
    expect(uploadCount('plugin.cpio.gz')).toBe(2)
  })

  it('treats a 403 with x-ratelimit-remaining: 0 as a rate limit and waits for the reset', async () => {
    const now = 1_800_000_000_000
    server.inject({
      method: 'GET',
      path: /\/releases\/tags\//,
      fault: {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 3) }
      }
    })
    const h = harness(server)
    await publishRelease(h.releaser, request([image]), { ...h.options, now: () => now })
    expect(h.sleeps).toEqual([4000]) // until the reset, plus a second for its rounding
  })

  it('caps a long retry-after', async () => {
    server.inject({
      method: 'POST',
      path: UPLOADS,
      fault: { status: 429, headers: { 'retry-after': '3600' } }
    })
    const h = harness(server, { maxRateLimitWaitMs: 1500 })
    await publishRelease(h.releaser, request([image]), h.options)
    expect(h.sleeps).toEqual([1500])
  })

  it('gives up after the attempts allowed, with a one-line FledgeError', async () => {
    server.inject({ method: 'POST', path: UPLOADS, times: 3, fault: { status: 503 } })
    const h = harness(server, { attempts: 3 })
    const failure = await publishRelease(h.releaser, request([image]), h.options).catch(
      (e: unknown) => e
    )
    expect(failure).toBeInstanceOf(FledgeError)
    expect((failure as FledgeError).message).toMatch(
      /upload plugin\.cpio\.gz .*503.*gave up after 3 attempts/
    )
    expect(onlyRelease().draft).toBe(true)
  })

  it('stops an upload that outlives its deadline', async () => {
    server.inject({ method: 'POST', path: UPLOADS, fault: { delayMs: 5_000 } })
    const h = harness(server, { deadlineMs: 300 })
    const started = Date.now()
    const failure = await publishRelease(h.releaser, request([image]), h.options).catch(
      (e: unknown) => e
    )
    expect(failure).toBeInstanceOf(FledgeError)
    expect((failure as FledgeError).message).toMatch(/did not finish in time/)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('leaves the release a draft when asked, and never sends make_latest for it', async () => {
    const h = harness(server)
    await publishRelease(
      h.releaser,
      request([image], { draft: true, makeLatest: 'true' }),
      h.options
    )
    expect(onlyRelease().draft).toBe(true)
    const patch = server.writeRequests().at(-1)!
    expect(patch.json).toMatchObject({ draft: true })
    expect(patch.json).not.toHaveProperty('make_latest')
  })

  it("keeps GitHub's latest release where it was with make_latest 'false'", async () => {
    const h = harness(server)
    const first = await publishRelease(h.releaser, request([image], { tag: 'v1.0.0' }), h.options)
    await publishRelease(
      h.releaser,
      request([image], { tag: 'v1.1.0', makeLatest: 'false' }),
      h.options
    )
    const latest = (await (
      await fetch(`${server.url}/repos/${OWNER}/${REPO}/releases/latest`)
    ).json()) as { id: number }
    expect(latest.id).toBe(first.releaseId)
  })

  it('uploads to a release given by id (a release event) and leaves a draft a draft', async () => {
    const drafted = server.addRelease({ owner: OWNER, repo: REPO, tag: TAG, draft: true, body: 'Mine.' })
    const h = harness(server)
    const result = await publishRelease(h.releaser, request([image], { releaseId: drafted.id }), h.options)
    expect(result).toMatchObject({ releaseId: drafted.id, created: false })
    expect(onlyRelease()).toMatchObject({ draft: true, prerelease: false })
    expect(storedAssets()).toEqual(built(image))
    expect(onlyRelease().body).toBe(`Mine.\n\n${BODY_BEGIN}\nBuilt by fledge-action.\n${BODY_END}`)
    expect(server.writeRequests().at(-1)!.json).toEqual({ body: onlyRelease().body })
  })

  it('does not touch an existing body without notes or an author body (release-notes: false)', async () => {
    server.addRelease({ owner: OWNER, repo: REPO, tag: TAG, body: 'All mine.' })
    const h = harness(server)
    await publishRelease(h.releaser, request([image], { notes: undefined }), h.options)
    expect(onlyRelease().body).toBe('All mine.')
    expect(server.writeRequests().at(-1)!.json).not.toHaveProperty('body')
  })

  it('keeps an explicit author body with the notes block, on create and on re-runs', async () => {
    const h = harness(server)
    await publishRelease(h.releaser, request([image], { authorBody: 'Highlights: faster boot.' }), h.options)
    const expected = `Highlights: faster boot.\n\n${BODY_BEGIN}\nBuilt by fledge-action.\n${BODY_END}`
    expect(onlyRelease().body).toBe(expected)
    // A person edits the notes block away; the re-run puts author text and block back.
    onlyRelease().body = 'edited by hand'
    await publishRelease(h.releaser, request([image], { authorBody: 'Highlights: faster boot.' }), h.options)
    expect(onlyRelease().body).toBe(expected)
  })

  it("generate-release-notes: GitHub's notes between the author's text and our block, only when this run creates the release", async () => {
    const h = harness(server)
    await publishRelease(
      h.releaser,
      request([image], { authorBody: 'Intro.', generateReleaseNotes: true }),
      h.options
    )
    const body = onlyRelease().body as string
    expect(body).toMatch(new RegExp(`^Intro\\.\\n\\n## What's Changed\\n[^]*\\n\\n${BODY_BEGIN}\\nBuilt by fledge-action\\.\\n${BODY_END}$`))
    expect(server.requests.filter((r) => r.operationId === 'repos/generate-release-notes')).toHaveLength(1)
    // Re-run: the release exists, so its text stays (no second copy of the notes).
    await publishRelease(h.releaser, request([image], { authorBody: undefined, generateReleaseNotes: true }), h.options)
    expect(onlyRelease().body).toBe(body)
    expect(server.requests.filter((r) => r.operationId === 'repos/generate-release-notes')).toHaveLength(1)
  })

  it('checks the files before calling GitHub', async () => {
    const h = harness(server)
    const missing = { ...image, path: `${image.path}.missing` }
    await expect(publishRelease(h.releaser, request([missing]), h.options)).rejects.toThrow(
      /does not exist/
    )
    const odd = writeFile(image.path.replace(/[^/]+$/, ''), 'my plugin.gz', Buffer.from('x'))
    await expect(publishRelease(h.releaser, request([odd]), h.options)).rejects.toThrow(
      /GitHub would rename/
    )
    expect(server.requests).toEqual([])
  })
})

describe('two matrix jobs publishing the same tag at once', () => {
  it.each([
    ['GitHub refuses the second create (422)', true],
    ['GitHub lets both drafts exist', false]
  ])('end with one release holding both assets: %s', async (_, uniqueTags) => {
    await server.close()
    server = await startGitHubServer({ uniqueTags })
    const h = harness(server)
    const [a, b] = await Promise.all([
      publishRelease(h.releaser, request([image]), h.options),
      publishRelease(h.releaser, request([manifest]), h.options)
    ])
    // Both looked before either created: the race really happened.
    expect(server.requests.filter((r) => r.operationId === 'repos/create-release')).toHaveLength(2)
    expect(a.releaseId).toBe(b.releaseId)
    expect([a.created, b.created].sort()).toEqual([false, true].sort())
    expect(storedAssets()).toEqual(built(image, manifest))
  })
})

describe('a repository with immutable releases', () => {
  beforeEach(async () => {
    await server.close()
    server = await startGitHubServer({ immutableReleases: true })
  })

  it('uploads before publishing, and a re-run with the same files changes nothing', async () => {
    const h = harness(server)
    const first = await publishRelease(h.releaser, request([image, manifest]), h.options)
    expect(onlyRelease()).toMatchObject({ draft: false, immutable: true })
    const writes = server.writeRequests().length

    const again = await publishRelease(h.releaser, request([image, manifest]), h.options)
    expect(server.writeRequests()).toHaveLength(writes)
    expect(again).toEqual({ ...first, created: false })
  })

  it('refuses to change a published immutable release, before touching it', async () => {
    const h = harness(server)
    await publishRelease(h.releaser, request([image, manifest]), h.options)
    const writes = server.writeRequests().length
    const rebuilt = buildFiles()

    const failure = await publishRelease(
      h.releaser,
      request([rebuilt.image, rebuilt.manifest]),
      h.options
    ).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(FledgeError)
    expect((failure as FledgeError).message).toMatch(
      /release v1\.2\.0 is published and immutable, and has a different asset named "plugin\.cpio\.gz"/
    )
    expect((failure as FledgeError).fix).toMatch(/new tag/)
    expect(server.writeRequests()).toHaveLength(writes)
    expect(storedAssets()).toEqual(built(image, manifest))
  })
})
