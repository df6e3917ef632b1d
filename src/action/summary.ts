import { bootTimes } from '../boot/smoke.js'
import { describeBootCost } from '../boot/cost.js'
import * as core from '@actions/core'
import { appendFile } from 'node:fs/promises'
import { fileError, isFileSystemError } from '../user-files.js'
import { formatDiff } from '../image/diff.js'
import { largestEntries } from '../image/largest.js'
import { formatBytes } from '../release/notes.js'
import type { ActionResult } from './run.js'

/**
 * The job summary, answer first: what happened (with the release link), how to
 * install it, whether it booted, its size against the budget; on pull requests the
 * changes against the latest release; then the hashes and the listing, folded away.
 */
export async function writeSummary(result: ActionResult): Promise<void> {
  const b = result.build
  const a = b.archive
  const name = a.path.split('/').pop() ?? a.path
  const summary = core.summary.addHeading(escapeHtml(headline(result, name)), 2)
  if (result.release) summary.addRaw(`<p><a href="${escapeHtml(result.release.htmlUrl)}">${escapeHtml(result.release.htmlUrl)}</a></p>`, true)
  else if (!result.decision.publish) summary.addRaw(`<p>${escapeHtml(result.decision.why)}</p>`, true)

  const facts: string[] = []
  if (result.manifestUrl && result.release) {
    facts.push(`<b>Install</b><pre><code>volar plugins install --manifest ${escapeHtml(result.manifestUrl)}</code></pre>`)
  }
  facts.push(`<b>Smoke test</b>: ${escapeHtml(smokeTest(result))}`)
  if (result.boot) {
    const boot = result.boot
    facts.push(`<b>Boot cost</b> (kernel log): ${escapeHtml(boot.cost ? describeBootCost(boot.cost) : `not measured: ${boot.costMissing ?? 'unknown'}`)}`)
  }
  facts.push(`<b>Size</b>: ${escapeHtml(sizeLine(a.size, a.contentSize, b.entries.length, result.maxSize))}`)
  summary.addRaw(facts.map((fact) => `<p>${fact}</p>`).join('\n'), true)

  if (result.previous) {
    const d = result.previous.diff
    summary.addHeading(`Changes against ${escapeHtml(result.previous.tag)}`, 3)
    summary.addRaw(
      d.added.length + d.removed.length + d.changed.length === 0
        ? '<p>No entry changed.</p>'
        : `<pre>${escapeHtml(formatDiff(d))}</pre>`,
      true
    )
  }
  if (b.replacements.length > 0) {
    summary.addHeading('Mappings that replace generated files', 3)
    summary.addList(b.replacements.map((r) => escapeHtml(`${r.path}: ${r.by} (was ${r.replaced})`)))
  }

  summary.addDetails('Hashes and inputs', `\n\n${htmlTable(['Item', 'Value'], detailRows(result))}\n\n`)
  summary.addDetails(
    'Largest entries',
    `\n\n${htmlTable(
      ['Path', 'Size', 'From'],
      largestEntries(b.entries, 10).map((e) => [escapeHtml(e.path), formatBytes(e.size), escapeHtml(e.origin)])
    )}\n\n`
  )
  const listing = b.entries
    .map(
      (e) =>
        `${e.type.padEnd(7)} ${e.mode.toString(8).padStart(4, '0')} /${e.path === '.' ? '' : e.path}${e.target ? ` -> ${e.target}` : ''}`
    )
    .join('\n')
  summary.addDetails(`Full listing (${b.entries.length} entries)`, `\n\n<pre>${escapeHtml(listing)}</pre>\n\n`)
  await flushSummary()
}

/** Line 1: published / draft / uploaded to an existing release / built only. */
function headline(result: ActionResult, name: string): string {
  const release = result.release
  const plugin = (result.manifest?.manifest['name'] as string | undefined) ?? name
  if (result.decision.publish && release) {
    const tag = result.decision.tag
    if (release.draft) return `📝 Draft release ${tag} of ${plugin} is ready (not published: draft is true)`
    if (result.decision.releaseId !== undefined) return `✅ Added ${plugin} to release ${tag}`
    return `✅ Published ${plugin} ${tag}`
  }
  return `🔨 Built ${name}; not published`
}

function smokeTest(result: ActionResult): string {
  const boot = result.boot
  if (!boot) return 'not run (smoke-test: false)'
  return `✅ booted (${boot.accel}): ${bootTimes(boot).join(', ')}`
}

function sizeLine(size: number, contentSize: number, entries: number, budget: number | undefined): string {
  const what = `${formatBytes(size)} (${formatBytes(contentSize)} uncompressed, ${entries} entries)`
  if (budget === undefined) return `${what}; no budget (max-size)`
  return `${what}, ${Math.round((size / budget) * 100)}% of the ${formatBytes(budget)} budget`
}

function detailRows(result: ActionResult): string[][] {
  const b = result.build
  const a = b.archive
  const code = (text: string) => `<code>${escapeHtml(text)}</code>`
  const rows: string[][] = [
    ['Checksum', code(`sha256:${a.sha256}`)],
    ['Content digest (uncompressed cpio)', code(`sha256:${a.contentSha256}`)],
    ...(b.image ? [['Container image', `${escapeHtml(b.image.reference)} ${code(b.image.digest)}${b.image.pinned || !b.image.origin.startsWith('registry:') ? '' : ' (tag not pinned)'}`]] : []),
    ['Init mode', b.config.init.mode],
    ['Agent', b.agent ? `${escapeHtml(b.agent.tag ?? b.agent.strategy)} ${code(`sha256:${b.agent.sha256}`)}` : 'none'],
    ['Busybox', `${code(`sha256:${b.busybox.sha256}`)}${b.busybox.pinned ? '' : ' (not pinned)'}`],
    ['SOURCE_DATE_EPOCH', String(b.epoch)],
    [
      'Cache',
      b.cacheHit
        ? 'all sources from the cache'
        : `busybox ${hit(b.busybox.cacheHit)}, agent ${b.agent ? hit(b.agent.cacheHit) : '-'}, init ${b.init ? hit(b.init.cacheHit) : '-'}`
    ],
    ['Time', Object.entries(b.timings).map(([stage, ms]) => `${stage} ${ms} ms`).join(', ')]
  ]
  if (result.manifest) rows.push(['Manifest', code(result.manifest.path.split('/').pop() ?? '')])
  for (const asset of result.release?.assets ?? []) {
    rows.push([`Asset <a href="${escapeHtml(asset.url)}">${escapeHtml(asset.name)}</a>`, code(asset.digest)])
  }
  return rows
}

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = (row: readonly string[], tag: string) => `<tr>${row.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`
  return `<table>${cells(header, 'th')}${rows.map((row) => cells(row, 'td')).join('')}</table>`
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
