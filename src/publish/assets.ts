/** The files to publish, checked before anything is created on GitHub, and their digests. */
import * as fs from 'node:fs'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'

export interface PublishAsset {
  path: string
  /** The asset's name on the release. */
  name: string
  contentType: string
  /** Hex sha256 of the file as built; computed from the file when absent. */
  sha256?: string | undefined
  label?: string | undefined
}

export interface PreparedAsset {
  path: string
  name: string
  contentType: string
  label: string | undefined
  size: number
  sha256: string
}

// GitHub renames asset files with other characters (and leading/trailing dots), which
// breaks finding them again by name: keep names to this set.
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/

/** A name GitHub keeps as it is, so the asset can be found again by it. */
export function isPlainAssetName(name: string): boolean {
  return PLAIN_NAME.test(name) && !name.endsWith('.')
}

export async function prepareAssets(assets: readonly PublishAsset[]): Promise<PreparedAsset[]> {
  const seen = new Set<string>()
  const prepared: PreparedAsset[] = []
  for (const asset of assets) {
    if (!isPlainAssetName(asset.name)) {
      throw new FledgeError(`asset name "${asset.name}" has characters GitHub would rename.`, {
        key: asset.name,
        fix: 'use only letters, digits, ".", "_" and "-", not starting or ending with "."'
      })
    }
    if (seen.has(asset.name)) {
      throw new FledgeError(`asset name "${asset.name}" is given twice.`, {
        key: asset.name,
        fix: 'give each asset its own name'
      })
    }
    seen.add(asset.name)
    const stat = await fs.promises.stat(asset.path).catch(() => undefined)
    if (!stat?.isFile()) {
      throw new FledgeError(`asset file ${asset.path} does not exist.`, {
        file: asset.path,
        fix: 'build the asset before publishing, and pass its path'
      })
    }
    if (asset.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(asset.sha256)) {
      throw new FledgeError(`sha256 of asset "${asset.name}" is not 64 hex digits.`, {
        key: asset.name,
        fix: 'pass the hex sha256 of the file'
      })
    }
    prepared.push({
      path: asset.path,
      name: asset.name,
      contentType: asset.contentType,
      label: asset.label,
      size: stat.size,
      sha256: (asset.sha256 ?? (await sha256File(asset.path))).toLowerCase()
    })
  }
  return prepared
}

/** GitHub reports `sha256:<hex>`. */
export function digestMatches(reported: string, sha256: string): boolean {
  return reported.toLowerCase() === `sha256:${sha256.toLowerCase()}`
}

export function digestMismatchError(name: string, reported: string, sha256: string): FledgeError {
  return new FledgeError(
    `GitHub reports digest ${reported} for asset "${name}", but the file built has sha256:${sha256}; the upload was corrupted or the file changed after it was built.`,
    { key: name, fix: 're-run the job to upload it again (the mismatching asset was deleted)' }
  )
}
