import type { Node } from 'jsonc-parser'
import { FledgeError } from '../errors.js'
import { normalizeChecksum } from './checksum.js'
import { applyTextEdits, insertProperties, replaceValue, type TextEdit } from './json-edit.js'
import { findProperty, lineColumn, parseJsonTree, propertyValue } from './json-text.js'

export interface ManifestChanges {
  /** sha256 of plugin.cpio.gz, `sha256:<hex>` or bare hex; written as `sha256:<lowercase hex>` */
  checksum: string
  url?: string | undefined
  version?: string | undefined
}

export const BOM = '\uFEFF'

/**
 * Set `initramfs.checksum` (and `initramfs.url` / `version` when given) in a
 * manifest's JSON text, leaving every other byte as the author wrote it:
 * authors review these files in diffs. Missing keys are inserted in the
 * layout of their neighbours. A leading UTF-8 BOM is the one exception: volar
 * refuses it (`invalid character 'ï'`), so it is dropped (the caller warns).
 */
export function rewriteManifest(
  text: string,
  changes: ManifestChanges,
  file = 'manifest.json'
): string {
  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text
  const root = parseJsonTree(body, file)
  if (root.type !== 'object') {
    throw new FledgeError(`the manifest must be a JSON object, not ${article(root.type)}.`, {
      file,
      ...lineColumn(body, root.offset),
      fix: 'write the manifest as { "name": …, "initramfs": { … }, … }.'
    })
  }
  const checksum = normalizeChecksum(changes.checksum)
  const edits: TextEdit[] = []
  if (changes.version !== undefined) {
    edits.push(
      ...setStrings(body, root, [['version', changes.version]], ['name', 'schema_version'], file)
    )
  }
  edits.push(...initramfsEdits(body, root, checksum, changes.url, file))
  return applyTextEdits(body, edits)
}

function initramfsEdits(
  text: string,
  root: Node,
  checksum: string,
  url: string | undefined,
  file: string
): TextEdit[] {
  const initramfs = findProperty(root, 'initramfs', text, file)
  if (initramfs) {
    const value = propertyValue(initramfs)
    if (value.type !== 'object') {
      throw new FledgeError(`"initramfs" must be an object, not ${article(value.type)}.`, {
        file,
        ...lineColumn(text, value.offset),
        key: 'initramfs',
        fix: 'write "initramfs": { "url": "https://…/plugin.cpio.gz" }.'
      })
    }
    const entries: [string, string][] = url === undefined ? [] : [['url', url]]
    entries.push(['checksum', checksum])
    return setStrings(text, value, entries, ['url'], file)
  }
  const rootfs = findProperty(root, 'rootfs', text, file)
  if (rootfs) {
    throw new FledgeError('this manifest boots a "rootfs" disk image and has no "initramfs".', {
      file,
      ...lineColumn(text, rootfs.offset),
      key: 'rootfs',
      fix: 'fledge-action builds an initramfs: replace "rootfs" with "initramfs": { "url": "https://…/plugin.cpio.gz" }.'
    })
  }
  if (url === undefined) {
    throw new FledgeError(
      'the manifest has no "initramfs" object, and no URL was given to create it.',
      {
        file,
        key: 'initramfs',
        fix: 'add "initramfs": { "url": "https://…/plugin.cpio.gz" }, or pass the artifact URL.'
      }
    )
  }
  const after = ['$schema', 'schema_version', 'name', 'version', 'runtime', 'enabled']
  return [insertProperties(text, root, [['initramfs', { url, checksum }]], after)]
}

/** Replace the values of present keys (untouched when already equal), insert the missing ones together. */
function setStrings(
  text: string,
  object: Node,
  entries: readonly (readonly [string, string])[],
  after: readonly string[],
  file: string
): TextEdit[] {
  const edits: TextEdit[] = []
  const missing: (readonly [string, string])[] = []
  for (const entry of entries) {
    const property = findProperty(object, entry[0], text, file)
    if (!property) {
      missing.push(entry)
      continue
    }
    const value = propertyValue(property)
    if (value.type !== 'string' || value.value !== entry[1])
      edits.push(replaceValue(value, entry[1]))
  }
  if (missing.length > 0) edits.push(insertProperties(text, object, missing, after))
  return edits
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}
