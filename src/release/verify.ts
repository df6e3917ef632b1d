import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { describeCompression } from '../archive/compression.js'
import { build } from '../build.js'
import { removeLater } from '../cleanup.js'
import { FledgeError } from '../errors.js'
import { sha256File } from '../hash.js'
import type { Logger } from '../log.js'
import { compareRecords, makeBuildRecord, RECORD_SCHEMA, recordedCompression, type BuildRecord } from './record.js'

export interface VerifyResult {
  match: boolean
  archiveSha256: string
  rebuiltSha256: string
  differences: string[]
}

/**
 * Rebuilds an image from the inputs its build record names (in the current
 * checkout) and compares the bytes; on a mismatch, says which input differs.
 */
export async function verifyArchive(options: {
  archive: string
  record: string
  configPath?: string | undefined
  token?: string | undefined
  log: Logger
}): Promise<VerifyResult> {
  const record = await readRecord(options.record)
  const archiveSha256 = await sha256File(options.archive).catch((error: NodeJS.ErrnoException) => {
    throw new FledgeError(`cannot read ${options.archive} (${error.code ?? error.message}).`, { fix: 'pass the downloaded image.' })
  })
  const base = recordBase(options.record, record)
  const configPath = options.configPath ?? path.resolve(base, record.config.path)
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fledge-verify-'))
  const rebuild = removeLater(dir)
  try {
    const rebuilt = await build({
      configPath,
      outputPath: path.join(dir, record.outputs.artifact),
      compression: recordedCompression(record),
      sourceDateEpoch: String(record.sourceDateEpoch),
      agentVersion: record.agent?.tag,
      imageDigest: record.image?.digest,
      token: options.token,
      log: options.log
    })
    const differences: string[] = []
    if (archiveSha256 !== record.outputs.sha256) {
      differences.push(`the archive's sha256 is ${archiveSha256}, the record describes ${record.outputs.sha256}`)
    }
    const match = rebuilt.archive.sha256 === archiveSha256
    if (!match) {
      const fresh = await makeBuildRecord(rebuilt, { baseDir: base, recordDir: path.dirname(path.resolve(options.record)) })
      differences.push(...compareRecords(record, fresh))
      if (differences.length === 0) {
        differences.push(
          rebuilt.archive.contentSha256 === record.outputs.contentSha256
            ? `same content (cpio sha256 ${record.outputs.contentSha256}), different compression: recorded with ${record.tool.name} ${record.tool.version} on ${record.tool.runtime} (${describeCompression(recordedCompression(record))}), rebuilt with ${fresh.tool.version} on ${fresh.tool.runtime} (${describeCompression(rebuilt.compression)})`
            : `the inputs match but the cpio differs (recorded ${record.outputs.contentSha256}, rebuilt ${rebuilt.archive.contentSha256}): recorded with ${record.tool.version}, rebuilt with ${fresh.tool.version}`
        )
      }
    }
    return { match, archiveSha256, rebuiltSha256: rebuilt.archive.sha256, differences }
  } finally {
    await rebuild.dispose()
  }
}

/** The folder the record's paths are relative to; records without `base` were written with it as the current folder. */
function recordBase(file: string, record: BuildRecord): string {
  return record.base === undefined ? process.cwd() : path.resolve(path.dirname(path.resolve(file)), record.base)
}

async function readRecord(file: string): Promise<BuildRecord> {
  let record: BuildRecord
  try {
    record = JSON.parse(await fs.readFile(file, 'utf8')) as BuildRecord
  } catch (error) {
    throw new FledgeError(`cannot read the build record (${(error as Error).message}).`, {
      file,
      fix: 'pass the <artifact>.build.json asset from the same release.'
    })
  }
  if (record.schema !== RECORD_SCHEMA) {
    throw new FledgeError(`not a fledge-action build record (schema ${JSON.stringify(record.schema)}).`, { file })
  }
  return record
}
