// The inputs users of softprops/action-gh-release and ncipollo/release-action expect
// (files, fail-on-unmatched-files, generate-release-notes, body-path, release-body with
// our block) and the outputs they read (release-id, upload-url, html-url, assets), through
// the Action from source against the OpenAPI-checked loopback GitHub.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BODY_BEGIN, BODY_END } from '../../src/publish/release-body.js'
import { OFFLINE_MANIFEST_TOML, runActionInProcess, type InProcessActionRun } from '../support/action.js'
import { startGitHubServer, type GitHubServer } from '../support/github-server.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const OWNER = 'volantvm'

let server: GitHubServer
beforeAll(async () => {
  server = await startGitHubServer()
})
afterEach(() => {
  expect(server.violations).toEqual([])
})
afterAll(() => server.close())

function workspace(extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-release-inputs-'))
  fs.cpSync(path.join(REPO, 'examples/offline'), dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'manifest.toml'), OFFLINE_MANIFEST_TOML)
  for (const [name, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), text)
  }
  return dir
}

function tagRun(dir: string, repo: string, tag: string, inputs: Record<string, string>): Promise<InProcessActionRun> {
  return runActionInProcess(
    dir,
    { publish: 'auto', ...inputs },
    {
      GITHUB_SERVER_URL: server.url,
      GITHUB_API_URL: server.url,
      GITHUB_REPOSITORY: `${OWNER}/${repo}`,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: `refs/tags/${tag}`
    }
  )
}

const errors = (run: InProcessActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::error'))
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const onlyRelease = (repo: string) => {
  const releases = server.releases(OWNER, repo)
  expect(releases).toHaveLength(1)
  return releases[0]!
}

describe('files', () => {
  it('attaches what the globs match, lists it in SHA256SUMS and the notes, and reports every asset in the outputs', async () => {
    const repo = 'files-glob'
    const dir = workspace({ 'dist/plugin.sig': 'signature\n', 'dist/sbom.json': '{}\n', 'dist/skip.tmp': 'no\n', 'LICENSE': 'Apache-2.0\n' })
    const run = await tagRun(dir, repo, 'v1.0.0', { files: 'dist/*\n!dist/*.tmp\n# a comment\nLICENSE' })
    expect(errors(run)).toEqual([])
    expect(run.exitCode).toBe(0)
    const release = onlyRelease(repo)
    expect(release.assets.map((a) => a.name).sort()).toEqual(
      ['LICENSE', 'SHA256SUMS', 'plugin.cpio.gz', 'plugin.cpio.gz.build.json', 'plugin.cpio.gz.manifest.json', 'plugin.sig', 'sbom.json'].sort()
    )
    const sums = release.assets.find((a) => a.name === 'SHA256SUMS')!.data.toString('utf8')
    expect(sums).toContain(`${sha256('signature\n')}  plugin.sig\n`)
    expect(sums).toContain(`${sha256('Apache-2.0\n')}  LICENSE\n`)
    expect(sums).not.toContain('skip.tmp')
    expect(release.body).toContain(`| \`sbom.json\` | \`${sha256('{}\n')}\` |`)
    // Every asset, as the download URL and the digest GitHub verified.
    const assets = JSON.parse(run.outputs['assets'] ?? '') as { name: string; url: string; sha256: string }[]
    expect(assets.map((a) => a.name).sort()).toEqual(release.assets.map((a) => a.name).sort())
    for (const asset of assets) {
      const stored = release.assets.find((a) => a.name === asset.name)!
      expect(asset.sha256).toBe(sha256(stored.data))
      const download = await fetch(asset.url)
      expect(Buffer.from(await download.arrayBuffer())).toEqual(stored.data)
    }
    expect(run.outputs['release-id']).toBe(String(release.id))
    expect(run.outputs['html-url']).toBe(`${server.webUrl}/${OWNER}/${repo}/releases/tag/v1.0.0`)
    expect(run.outputs['upload-url']).toBe(`${server.uploadsUrl}/repos/${OWNER}/${repo}/releases/${release.id}/assets{?name,label}`)
  })

  it('a glob that matches nothing fails before anything is built or published', async () => {
    const repo = 'files-missing'
    const dir = workspace()
    const run = await tagRun(dir, repo, 'v1.0.0', { files: 'LICENSE\ndist/*.sig' })
    expect(run.exitCode).toBe(1)
    expect(errors(run)).toEqual([
      `::error::files: line 1, "LICENSE", matches no file under ${dir}. Fix: correct the glob (it is relative to working-directory), or set fail-on-unmatched-files: false to only warn.`
    ])
    expect(fs.existsSync(path.join(dir, 'plugin.cpio.gz'))).toBe(false)
    expect(server.releases(OWNER, repo)).toEqual([])
  })

  it('with fail-on-unmatched-files: false it warns and publishes the rest', async () => {
    const repo = 'files-missing-ok'
    const dir = workspace({ 'NOTICE': 'n\n' })
    const run = await tagRun(dir, repo, 'v1.0.0', { files: 'NOTICE\ndist/*.sig', 'fail-on-unmatched-files': 'false' })
    expect(errors(run)).toEqual([])
    expect(run.stdout).toContain(`::warning::files: line 2, "dist/*.sig", matches no file under ${dir}.`)
    expect(onlyRelease(repo).assets.map((a) => a.name)).toContain('NOTICE')
  })

  it('a file named like one the build makes is refused', async () => {
    const dir = workspace({ 'other/SHA256SUMS': 'x\n' })
    const run = await tagRun(dir, 'files-clash', 'v1.0.0', { files: 'other/*' })
    expect(run.exitCode).toBe(1)
    expect(errors(run)[0]).toContain('has the name of an asset the build makes (SHA256SUMS)')
    expect(server.releases(OWNER, 'files-clash')).toEqual([])
  })
})

describe('release text', () => {
  const block = (body: string) => body.slice(body.indexOf(BODY_BEGIN), body.indexOf(BODY_END) + BODY_END.length)

  it('release-body is kept with the notes block', async () => {
    const repo = 'body-and-block'
    const run = await tagRun(workspace(), repo, 'v1.0.0', { 'release-body': 'Faster cold starts.' })
    expect(errors(run)).toEqual([])
    const body = onlyRelease(repo).body ?? ''
    expect(body.startsWith(`Faster cold starts.\n\n${BODY_BEGIN}\n`)).toBe(true)
    expect(block(body)).toContain('sha256sum -c')
  })

  it('release-notes: false leaves the author text alone, with no block', async () => {
    const repo = 'body-only'
    await tagRun(workspace(), repo, 'v1.0.0', { 'release-body': 'Only mine.', 'release-notes': 'false' })
    expect(onlyRelease(repo).body).toBe('Only mine.')
  })

  it('body-path is read from working-directory and wins over release-body', async () => {
    const repo = 'body-path'
    const run = await tagRun(workspace({ 'CHANGES.md': '## Changes\n\n- boot in 40 ms\n' }), repo, 'v1.0.0', {
      'body-path': 'CHANGES.md',
      'release-body': 'ignored'
    })
    expect(run.stdout).toContain('::warning::Both body-path and release-body are set; using body-path')
    expect(onlyRelease(repo).body?.startsWith(`## Changes\n\n- boot in 40 ms\n\n${BODY_BEGIN}`)).toBe(true)
  })

  it('a missing body-path fails first, naming the file', async () => {
    const dir = workspace()
    const run = await tagRun(dir, 'body-path-missing', 'v1.0.0', { 'body-path': 'NOPE.md' })
    expect(run.exitCode).toBe(1)
    expect(errors(run)[0]).toContain(path.join(dir, 'NOPE.md'))
    expect(fs.existsSync(path.join(dir, 'plugin.cpio.gz'))).toBe(false)
  })

  it("generate-release-notes: the author's text, GitHub's notes, then our block", async () => {
    const repo = 'generated-notes'
    server.addRelease({ owner: OWNER, repo, tag: 'v0.9.0' })
    const run = await tagRun(workspace(), repo, 'v1.0.0', { 'release-body': 'Intro.', 'generate-release-notes': 'true' })
    expect(errors(run)).toEqual([])
    const body = server.releases(OWNER, repo).find((r) => r.tagName === 'v1.0.0')?.body ?? ''
    const order = ['Intro.', "## What's Changed", `**Full Changelog**: ${server.webUrl}/${OWNER}/${repo}/compare/v0.9.0...v1.0.0`, BODY_BEGIN, BODY_END].map((part) => body.indexOf(part))
    expect(order.every((at) => at >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })
})

describe('a plugin on a container image', () => {
  it('the release notes and the summary name the image and the digest it was built from', async () => {
    const repo = 'from-image'
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-release-image-'))
    fs.cpSync(path.join(REPO, 'examples/from-image'), dir, { recursive: true })
    execFileSync(path.join(dir, 'make-layout.sh'), { stdio: 'ignore' })
    const run = await tagRun(dir, repo, 'v1.0.0', {})
    expect(errors(run)).toEqual([])
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'layout/index.json'), 'utf8')) as { manifests: { digest: string }[] }
    const digest = index.manifests[0]!.digest
    expect(onlyRelease(repo).body).toContain(`- container image: \`oci-layout:./layout:1.0\` at \`${digest}\``)
    expect(run.summary).toContain(`<td>Container image</td><td>oci-layout:./layout:1.0 <code>${digest}</code></td>`)
  })
})
