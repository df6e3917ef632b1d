import { bootTimes } from '../boot/smoke.js'
import { describeBootCost } from '../boot/cost.js'
import * as core from '@actions/core'
import { appendFile } from 'node:fs/promises'
import { fileError, isFileSystemError } from '../user-files.js'
import { formatDiff } from '../image/diff.js'
import { largestEntries } from '../image/largest.js'
import { formatBytes } from '../release/notes.js'
import type { ActionResult } from './run.js'

/** The job summary: what was built, from what, how long each stage took, and what is inside. */
export async function writeSummary(result: ActionResult): Promise<void> {
  const b = result.build
  const a = b.archive
  const summary = core.summary.addHeading(`fledge-action: ${a.path.split('/').pop()}`, 2)
  const rows: [string, string][] = [
    ['Checksum', `<code>sha256:${a.sha256}</code>`],
    ['Content digest (uncompressed cpio)', `<code>sha256:${a.contentSha256}</code>`],
    [
      'Size',
      `${formatBytes(a.size)} (${formatBytes(a.contentSize)} uncompressed, ${b.entries.length} entries)`
    ],
    ['Init mode', b.config.init.mode],
    [
      'Agent',
      b.agent ? `${b.agent.tag ?? b.agent.strategy} <code>sha256:${b.agent.sha256}</code>` : 'none'
    ],
    [
      'Busybox',
      `<code>sha256:${b.busybox.sha256}</code>${b.busybox.pinned ? '' : ' (not pinned)'}`
    ],
    ['SOURCE_DATE_EPOCH', String(b.epoch)],
    [
      'Cache',
      b.cacheHit
        ? 'all sources from the cache'
        : `busybox ${hit(b.busybox.cacheHit)}, agent ${b.agent ? hit(b.agent.cacheHit) : '-'}, init ${b.init ? hit(b.init.cacheHit) : '-'}`
    ],
    [
      'Time',
      Object.entries(b.timings)
        .map(([stage, ms]) => `${stage} ${ms} ms`)
        .join(', ')
    ]
  ]
  if (result.boot) {
    rows.push([
      'Boot smoke test',
      `passed (${result.boot.accel}): ${bootTimes(result.boot).join(', ')}`
    ])
    rows.push(['Boot cost (kernel log)', result.boot.cost ? describeBootCost(result.boot.cost) : `not measured: ${result.boot.costMissing ?? 'unknown'}`])
  }
  if (result.manifest)
    rows.push(['Manifest', `<code>${result.manifest.path.split('/').pop()}</code>`])
  if (result.release) {
    rows.push([
      'Release',
      `<a href="${result.release.htmlUrl}">${result.decision.publish ? result.decision.tag : ''}</a>`
    ])
  } else if (!result.decision.publish) {
    rows.push(['Release', `not published: ${result.decision.why}`])
  }
  summary.addTable([
    [
      { data: 'Item', header: true },
      { data: 'Value', header: true }
    ],
    ...rows
  ])
  if (b.replacements.length > 0) {
    summary.addHeading('Mappings that replace generated files', 3)
    summary.addList(b.replacements.map((r) => `${r.path}: ${r.by} (was ${r.replaced})`))
  }
  if (result.previous) {
    const d = result.previous.diff
    summary.addHeading(`Changes against ${result.previous.tag}`, 3)
    summary.addRaw(
      d.added.length + d.removed.length + d.changed.length === 0
        ? '<p>No entry changed.</p>'
        : `<pre>${escapeHtml(formatDiff(d))}</pre>`,
      true
    )
  }
  summary.addHeading('Largest entries', 3)
  summary.addTable([
    [
      { data: 'Path', header: true },
      { data: 'Size', header: true },
      { data: 'From', header: true }
    ],
    ...largestEntries(b.entries, 10).map((e) => [e.path, formatBytes(e.size), e.origin])
  ])
  const listing = b.entries
    .map(
      (e) =>
        `${e.type.padEnd(7)} ${e.mode.toString(8).padStart(4, '0')} /${e.path === '.' ? '' : e.path}${e.target ? ` -> ${e.target}` : ''}`
    )
    .join('\n')
  summary.addDetails(
    `Full listing (${b.entries.length} entries)`,
    `\n\n<pre>${escapeHtml(listing)}</pre>\n\n`
  )
  await flushSummary()
}

/**
 * Appends the summary built so far to $GITHUB_STEP_SUMMARY, as
 * core.summary.write() does, but a failure is one sentence naming the file
 * (core reports any errno as "Unable to access summary file").
 */
export async function flushSummary(): Promise<void> {
  const file = process.env['GITHUB_STEP_SUMMARY']
  if (!file) {
    await core.summary.write()
    return
  }
  try {
    await appendFile(file, core.summary.stringify(), { encoding: 'utf8' })
    core.summary.emptyBuffer()
  } catch (error) {
    if (!isFileSystemError(error)) throw error
    throw fileError(error, file, {
      what: 'the job summary file (GITHUB_STEP_SUMMARY)',
      verb: 'write'
    })
  }
}

function hit(value: boolean): string {
  return value ? 'hit' : 'miss'
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
