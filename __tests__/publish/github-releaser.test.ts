import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { GitHubReleaser } from '../../src/publish/github-releaser.js'
import { ReleaseApiError } from '../../src/publish/releaser.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'
import { OWNER, REPO, buildFiles } from './fixture.js'

let server: GitHubServer
let releaser: GitHubReleaser
beforeEach(async () => {
  server = await startGitHubServer()
  releaser = new GitHubReleaser({
    token: 'ghs_test',
    owner: OWNER,
    repo: REPO,
    baseUrl: server.url
  })
})
afterEach(async () => {
  const violations = server.violations
  await server.close()
  expect(violations).toEqual([])
})

const seed = (tag: string, draft = false) =>
  server.addRelease({ owner: OWNER, repo: REPO, tag, draft })

describe('GitHubReleaser', () => {
  it('finds a draft that is only on a later page of the listing', async () => {
    const draft = seed('v9.9.9', true)
    for (let i = 0; i < 150; i++) seed(`v0.0.${i}`)
    const found = await releaser.findReleaseByTag('v9.9.9')
    expect(found).toMatchObject({ id: draft.id, draft: true, tagName: 'v9.9.9' })
    const pages = server.requests
      .filter((r) => r.operationId === 'repos/list-releases')
      .map((r) => r.query['page'])
    expect(pages).toEqual(['1', '2'])
  })

  it('answers undefined when no release has the tag', async () => {
    seed('v1')
    expect(await releaser.findReleaseByTag('v2')).toBeUndefined()
  })

  it('settles on the oldest of several drafts for one tag, and on a published release over drafts', async () => {
    const oldest = seed('v1', true)
    seed('v1', true)
    expect((await releaser.findReleaseByTag('v1'))?.id).toBe(oldest.id)
    const published = seed('v1')
    expect((await releaser.findReleaseByTag('v1'))?.id).toBe(published.id)
  })

  it('streams an upload with its content-length to the upload_url host', async () => {
    const release = await releaser.createRelease({ tagName: 'v1', draft: true })
    const { image } = buildFiles()
    const asset = await releaser.uploadAsset(release, {
      filePath: image.path,
      size: image.data.length,
      name: image.name,
      contentType: 'application/gzip',
      label: 'Plugin image'
    })
    expect(asset).toMatchObject({
      name: image.name,
      state: 'uploaded',
      size: image.data.length,
      digest: `sha256:${image.sha256}`
    })
    const upload = server.requests.at(-1)!
    expect(upload).toMatchObject({
      host: 'uploads',
      query: { name: image.name, label: 'Plugin image' },
      bodyLength: image.data.length
    })
    expect(upload.headers['content-length']).toBe(String(image.data.length))
    expect(upload.headers['content-type']).toBe('application/gzip')
    expect(upload.headers['authorization']).toBe('token ghs_test')
  })

  it('treats deleting what is already gone as done', async () => {
    const release = seed('v1')
    await expect(releaser.deleteAsset(123456)).resolves.toBeUndefined()
    await expect(releaser.deleteRelease(release.id)).resolves.toBeUndefined()
    await expect(releaser.deleteRelease(release.id)).resolves.toBeUndefined()
    expect(server.releases(OWNER, REPO)).toEqual([])
  })

  it('reports a dropped connection as a failure without status, and HTTP errors with status, headers and codes', async () => {
    server.inject({ path: /\/releases$/, fault: { reset: 'before' } })
    const dropped = await releaser
      .createRelease({ tagName: 'v1', draft: true })
      .catch((e: unknown) => e)
    expect(dropped).toBeInstanceOf(ReleaseApiError)
    expect(dropped).toMatchObject({ status: undefined, timedOut: false })

    seed('v2')
    const conflict = await releaser
      .createRelease({ tagName: 'v2', draft: true })
      .catch((e: unknown) => e)
    expect(conflict).toMatchObject({ status: 422, codes: ['already_exists'] })

    server.inject({ path: /\/releases$/, fault: { status: 429, headers: { 'retry-after': '7' } } })
    const limited = await releaser
      .createRelease({ tagName: 'v3', draft: true })
      .catch((e: unknown) => e)
    expect(limited).toMatchObject({
      status: 429,
      headers: expect.objectContaining({ 'retry-after': '7' })
    })
  })
})
