// The fake GitHub itself: it must hold requests to GitHub's OpenAPI description and
// behave like GitHub where the publish code depends on it.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

let server: GitHubServer
beforeEach(async () => {
  server = await startGitHubServer()
})
afterEach(async () => {
  await server.close()
})

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: 'token t', 'content-type': 'application/json', ...init.headers }
  })

describe('the fake GitHub server', () => {
  it('answers 400 and records a violation for a body the description does not allow', async () => {
    const response = await api('/repos/o/r/releases', {
      method: 'POST',
      body: JSON.stringify({ tag_name: 1, draft: 'yes' })
    })
    expect(response.status).toBe(400)
    expect(server.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/body\/tag_name must be string.*body\/draft must be boolean/)
    ])
    expect(server.releases('o', 'r')).toEqual([])
  })

  it('records a violation for a path, a parameter or a query that GitHub does not have', async () => {
    await api('/repos/o/r/releasez')
    await api('/repos/o/r/releases/abc')
    await api('/repos/o/r/releases?per_page=many&colour=blue')
    await api('/repos/o/r/releases', { method: 'POST' })
    expect(server.violations.map((v) => v.message)).toEqual([
      "no operation in GitHub's OpenAPI description for GET /repos/o/r/releasez",
      'path parameter release_id: value must be integer',
      'query parameter per_page: value must be integer',
      'query parameter colour is not part of repos/list-releases',
      'a JSON request body is required'
    ])
  })

  it('accepts uploads only on the uploads host, with the headers GitHub requires', async () => {
    const release = server.addRelease({ owner: 'o', repo: 'r', tag: 'v1', draft: true })
    const onApi = await fetch(`${server.url}/repos/o/r/releases/${release.id}/assets?name=a.bin`, {
      method: 'POST',
      headers: { authorization: 'token t', 'content-type': 'application/octet-stream' },
      body: 'abc'
    })
    expect(onApi.status).toBe(404)
    const chunked = await fetch(
      `${server.uploadsUrl}/repos/o/r/releases/${release.id}/assets?name=a.bin`,
      {
        method: 'POST',
        headers: { authorization: 'token t', 'content-type': 'application/octet-stream' },
        body: new Blob(['abc']).stream(),
        duplex: 'half'
      } as RequestInit
    )
    expect(chunked.status).toBe(400)
    expect(server.violations.map((v) => v.message)).toEqual([
      'repos/upload-release-asset sent to api.github.com',
      'content-length header is required'
    ])
    server.violations.length = 0

    const uploaded = await fetch(
      `${server.uploadsUrl}/repos/o/r/releases/${release.id}/assets?name=a%20b.bin`,
      {
        method: 'POST',
        headers: { authorization: 'token t', 'content-type': 'application/octet-stream' },
        body: 'abc'
      }
    )
    expect(uploaded.status).toBe(201)
    const asset = (await uploaded.json()) as Record<string, unknown>
    expect(asset).toMatchObject({
      name: 'a.b.bin', // GitHub renames unusual characters
      state: 'uploaded',
      size: 3,
      digest: 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    })
    expect(asset['browser_download_url']).toBe(
      `${server.url}/o/r/releases/download/${release.untaggedName}/a.b.bin`
    )
    const again = await fetch(
      `${server.uploadsUrl}/repos/o/r/releases/${release.id}/assets?name=a.b.bin`,
      {
        method: 'POST',
        headers: { authorization: 'token t', 'content-type': 'application/octet-stream' },
        body: 'abc'
      }
    )
    expect(again.status).toBe(422)
    expect(await again.json()).toMatchObject({
      errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }]
    })
    const bytes = await api(`/repos/o/r/releases/assets/${String(asset['id'])}`, {
      headers: { accept: 'application/octet-stream' }
    })
    expect(await bytes.text()).toBe('abc')
    expect(server.violations).toEqual([])
  })

  it('hides drafts from the tags endpoint but lists them', async () => {
    const draft = server.addRelease({ owner: 'o', repo: 'r', tag: 'v1', draft: true })
    expect((await api('/repos/o/r/releases/tags/v1')).status).toBe(404)
    const listed = (await (await api('/repos/o/r/releases')).json()) as {
      id: number
      draft: boolean
    }[]
    expect(listed).toEqual([expect.objectContaining({ id: draft.id, draft: true })])
    expect((await api('/repos/o/r/releases/latest')).status).toBe(404)
    expect(server.violations).toEqual([])
  })

  it("refuses a second release for a tag with GitHub's 422", async () => {
    server.addRelease({ owner: 'o', repo: 'r', tag: 'v1' })
    const response = await api('/repos/o/r/releases', {
      method: 'POST',
      body: JSON.stringify({ tag_name: 'v1' })
    })
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]
    })
  })

  it('pages release listings with Link headers', async () => {
    for (let i = 0; i < 5; i++) server.addRelease({ owner: 'o', repo: 'r', tag: `v${i}` })
    const first = await api('/repos/o/r/releases?per_page=2')
    expect(((await first.json()) as { tag_name: string }[]).map((r) => r.tag_name)).toEqual([
      'v4',
      'v3'
    ])
    expect(first.headers.get('link')).toContain('page=2>; rel="next"')
    const last = await api('/repos/o/r/releases?per_page=2&page=3')
    expect(((await last.json()) as { tag_name: string }[]).map((r) => r.tag_name)).toEqual(['v0'])
    expect(server.violations).toEqual([])
  })

  it('requires a token for writes', async () => {
    const response = await fetch(`${server.url}/repos/o/r/releases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tag_name: 'v1' })
    })
    expect(response.status).toBe(401)
  })

  it('applies a fault only as many times as asked', async () => {
    server.inject({ method: 'GET', path: '/repos/o/r/releases', times: 2, fault: { status: 502 } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await api('/repos/o/r/releases')).status)
    expect(statuses).toEqual([502, 502, 200])
    expect(server.unusedFaults()).toEqual([])
    server.inject({ path: '/repos/o/r/releases', fault: { reset: 'before' } })
    await expect(api('/repos/o/r/releases')).rejects.toThrow()
    expect(server.requests.at(-1)).toMatchObject({ fault: 'reset before', status: undefined })
  })
})
