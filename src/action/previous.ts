import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { readArchive, type ArchiveRecord } from '../archive/read.js'
import { diffImages, type ImageDiff } from '../image/diff.js'
import type { Logger } from '../log.js'
import { makeTempDir } from '../sources/cache.js'
import { defaultNetworkOptions, downloadFile, getJson } from '../sources/http.js'

export interface PreviousRelease {
  tag: string
  diff: ImageDiff
}

interface ReleaseJson {
  tag_name: string
  assets: { name: string; url: string }[]
}

/**
 * For a pull request: the image's changes against the same asset of the
 * repository's latest release. Best effort: any failure is a notice, not an error.
 */
export async function diffAgainstLatestRelease(options: {
  apiUrl: string
  repository: string
  token: string
  artifactName: string
  current: string
  log: Logger
}): Promise<PreviousRelease | undefined> {
  const { log } = options
  const headers: Record<string, string> = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' }
  if (options.token) headers['authorization'] = `Bearer ${options.token}`
  const network = { ...defaultNetworkOptions(), attempts: 2 }
  try {
    const latest = await getJson<ReleaseJson>(`${options.apiUrl.replace(/\/+$/, '')}/repos/${options.repository}/releases/latest`, headers, network, log)
    const asset = latest.body?.assets.find((a) => a.name === options.artifactName)
    if (!latest.body || !asset) {
      log.info(`No previous release with ${options.artifactName} to compare with.`)
      return undefined
    }
    const dir = await makeTempDir('previous')
    const file = path.join(dir, options.artifactName)
    await downloadFile(asset.url, file, { headers: { ...headers, accept: 'application/octet-stream' }, what: `${options.artifactName} of ${latest.body.tag_name}` }, network, log)
    const diff = diffImages(await records(file), await records(options.current))
    await fs.rm(dir, { recursive: true, force: true })
    return { tag: latest.body.tag_name, diff }
  } catch (error) {
    log.info(`Could not compare with the latest release: ${(error as Error).message}`)
    return undefined
  }
}

async function records(file: string): Promise<ArchiveRecord[]> {
  const out: ArchiveRecord[] = []
  for await (const r of readArchive(file)) out.push(r)
  return out
}
