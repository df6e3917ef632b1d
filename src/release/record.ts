import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Compression } from '../archive/compression.js'
import type { BuildResult } from '../build.js'
import { toolVersion } from '../version.js'

export const RECORD_SCHEMA = 'fledge-action/build-record/v1'

/**
 * Everything that went into an image, so anyone can rebuild it and see which
 * input differs when the bytes do not match (`fledge-action verify`).
 */
export interface BuildRecord {
  schema: typeof RECORD_SCHEMA
  /**
   * The folder every path below is relative to (the Action's working-directory),
   * written relative to the record's own folder, so `verify` finds the inputs
   * from any current folder.
   */
  base: string
  tool: { name: 'fledge-action'; version: string; runtime: string; platform: string }
  config: { path: string; sha256: string; initMode: string }
  sourceDateEpoch: number
  busybox: { url: string; sha256: string; pinned: boolean }
  agent?: { strategy: string; tag?: string; url?: string; sha256: string }
  /** `[source] image`: as written, where it came from, and the manifest digest that pins it. */
  image?: { reference: string; origin: string; digest: string; pinned: boolean; configDigest?: string; layers: string[] }
  init?: { sourceSha256: string; compiler: string; sha256: string }
  mappings: { source: string; destination: string; mode: string; sha256?: string; type: string }[]
  outputs: {
    artifact: string
    sha256: string
    size: number
    contentSha256: string
    /** Format and level (records from before formats had none: gzip, level 7). */
    compression?: Compression
    manifest?: { name: string; sha256: string }
  }
}

export async function makeBuildRecord(
  result: BuildResult,
  options: { baseDir: string; recordDir?: string | undefined; manifest?: { path: string; json: string } | undefined }
): Promise<BuildRecord> {
  const config = result.config
  const relative = (p: string, from = options.baseDir) => path.relative(from, p).split(path.sep).join('/') || '.'
  const mappings = result.entries
    .filter((e) => e.origin.startsWith('mapping '))
    .map((e) => {
      const item: BuildRecord['mappings'][number] = {
        source: e.source?.kind === 'path' ? relative(e.source.path) : e.origin,
        destination: `/${e.path}`,
        mode: e.mode.toString(8).padStart(4, '0'),
        type: e.type
      }
      const digest = result.archive.fileDigests.get(e.path)
      if (digest) item.sha256 = digest
      return item
    })
  const record: BuildRecord = {
    schema: RECORD_SCHEMA,
    base: relative(path.resolve(options.baseDir), path.resolve(options.recordDir ?? options.baseDir)),
    tool: { name: 'fledge-action', version: toolVersion(), runtime: `node ${process.version}`, platform: `${process.platform}-${process.arch}` },
    config: {
      path: relative(config.file),
      sha256: createHash('sha256').update(await fs.readFile(config.file)).digest('hex'),
      initMode: config.init.mode
    },
    sourceDateEpoch: result.epoch,
    busybox: { url: result.busybox.url, sha256: result.busybox.sha256, pinned: result.busybox.pinned },
    mappings,
    outputs: {
      artifact: path.basename(result.archive.path),
      sha256: result.archive.sha256,
      size: result.archive.size,
      contentSha256: result.archive.contentSha256,
      compression: result.compression
    }
  }
  if (result.agent) {
    record.agent = { strategy: result.agent.strategy, sha256: result.agent.sha256 }
    if (result.agent.tag) record.agent.tag = result.agent.tag
    if (result.agent.url) record.agent.url = result.agent.url
  }
  if (result.image) {
    const image = result.image
    record.image = { reference: image.reference, origin: image.origin, digest: image.digest, pinned: image.pinned, layers: image.layers.map((l) => l.digest) }
    if (image.configDigest) record.image.configDigest = image.configDigest
  }
  if (result.init) {
    record.init = { sourceSha256: result.init.sourceSha256, compiler: result.init.compiler, sha256: result.init.sha256 }
  }
  if (options.manifest) {
    record.outputs.manifest = {
      name: path.basename(options.manifest.path),
      sha256: createHash('sha256').update(options.manifest.json).digest('hex')
    }
  }
  return record
}

/** What differs between the record and a fresh build's record, as readable lines. */
export function compareRecords(expected: BuildRecord, actual: BuildRecord): string[] {
  const differences: string[] = []
  const check = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${what}: recorded ${JSON.stringify(a)}, rebuilt ${JSON.stringify(b)}`)
  }
  check('fledge.toml sha256', expected.config.sha256, actual.config.sha256)
  check('SOURCE_DATE_EPOCH', expected.sourceDateEpoch, actual.sourceDateEpoch)
  check('compression', recordedCompression(expected), recordedCompression(actual))
  check('busybox sha256', expected.busybox.sha256, actual.busybox.sha256)
  check('agent', expected.agent, actual.agent)
  check('container image', expected.image && { reference: expected.image.reference, digest: expected.image.digest }, actual.image && { reference: actual.image.reference, digest: actual.image.digest })
  check('C init source sha256', expected.init?.sourceSha256, actual.init?.sourceSha256)
  if (expected.init?.sha256 !== actual.init?.sha256) {
    check('C init binary sha256 (compiler: recorded ' + expected.init?.compiler + ', here ' + actual.init?.compiler + ')', expected.init?.sha256, actual.init?.sha256)
  }
  const byDestination = new Map(actual.mappings.map((m) => [m.destination, m]))
  for (const m of expected.mappings) {
    const other = byDestination.get(m.destination)
    if (!other) differences.push(`mapped ${m.destination}: in the record, missing from the rebuild`)
    else if (other.sha256 !== m.sha256 || other.mode !== m.mode || other.type !== m.type) {
      differences.push(
        `mapped ${m.destination} (from ${m.source}): recorded ${m.type} ${m.mode} sha256 ${m.sha256 ?? '-'}, rebuilt ${other.type} ${other.mode} sha256 ${other.sha256 ?? '-'}`
      )
    }
    byDestination.delete(m.destination)
  }
  for (const extra of byDestination.values()) differences.push(`mapped ${extra.destination}: new in the rebuild`)
  return differences
}

/** The compression a record was written with; records from before the choice existed used gzip level 7. */
export function recordedCompression(record: BuildRecord): Compression {
  return record.outputs.compression ?? { format: 'gzip', level: 7 }
}
