// Scenario 1: our build of the ~50 MB payload against the reference pipeline, alternating.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { buildOurs } from './ours.mjs'
import {
  EPOCH,
  WORK,
  loadavg,
  log,
  median,
  quote,
  round,
  sh,
  sha256File,
  summary,
  timed
} from './util.mjs'

/**
 * What fledge does (fledge-compat.md, build steps 1-8): copy the image tree
 * into a staging folder, stamp every mtime, cpio it into a temp file, gzip
 * that. Cleaning up afterwards is left out of the timing (in its favour).
 */
function referenceScript({ source, stage, tmpCpio, output }) {
  return [
    'set -e',
    `mkdir -m 0700 ${quote(stage)}`,
    `cp -a ${quote(source)}/. ${quote(stage)}/`,
    `cd ${quote(stage)}`,
    `find . -exec touch -d @${EPOCH} {} +`,
    `find . -print0 | cpio --null -o --format=newc --quiet > ${quote(tmpCpio)}`,
    `gzip -n -9 -c ${quote(tmpCpio)} > ${quote(output)}`
  ].join('\n')
}

/**
 * The reference's input tree: the same files our archive holds (busybox and
 * its applet links, /init, the agent, the mappings), unpacked from our
 * warm-up build so that both pipelines pack identical content. fledge creates
 * no device nodes, so /dev/* records are left out.
 */
async function referenceSource(ourArchive, dir) {
  await fs.rm(dir, { recursive: true, force: true })
  await fs.mkdir(dir, { recursive: true })
  sh(
    `cd ${quote(dir)} && gzip -dc ${quote(ourArchive)} | cpio -idm --quiet --no-absolute-filenames --nonmatching 'dev/*'`
  )
}

export async function archiveScenario({ payload, runs }) {
  const work = path.join(WORK, 'archive')
  await fs.mkdir(work, { recursive: true })
  const ourOut = path.join(work, 'ours.cpio.gz')
  const refOut = path.join(work, 'reference.cpio.gz')

  log(`archive: warm-up build (fills the cache: busybox, compiled init)`)
  const warm = await buildOurs({ cwd: payload.dir, config: payload.config, output: ourOut })
  const source = path.join(work, 'reference-source')
  await referenceSource(ourOut, source)

  const stage = path.join(work, 'stage')
  const tmpCpio = path.join(work, 'tmp.cpio')
  const script = referenceScript({ source, stage, tmpCpio, output: refOut })
  const cleanup = () => sh(`rm -rf ${quote(stage)} ${quote(tmpCpio)}`)
  cleanup()

  const ours = []
  const reference = []
  let refContentSize
  const runOurs = async () => {
    const load = loadavg()
    const r = await buildOurs({ cwd: payload.dir, config: payload.config, output: ourOut })
    ours.push({
      wallMs: round(r.wallMs, 1),
      userS: r.userS,
      sysS: r.sysS,
      maxRssKiB: r.maxRssKiB,
      size: r.archive.size,
      sha256: r.archive.sha256,
      loadavg: load
    })
    log(
      `  ours      ${(r.wallMs / 1000).toFixed(2)} s  ${r.archive.size} B  rss ${(r.maxRssKiB / 1024).toFixed(0)} MiB`
    )
  }
  const runReference = async () => {
    const load = loadavg()
    const r = await timed(['bash', '-c', script])
    refContentSize = (await fs.stat(tmpCpio)).size
    const size = (await fs.stat(refOut)).size
    reference.push({
      wallMs: round(r.wallMs, 1),
      userS: r.userS,
      sysS: r.sysS,
      maxRssKiB: r.maxRssKiB,
      size,
      sha256: await sha256File(refOut),
      loadavg: load
    })
    cleanup()
    log(`  reference ${(r.wallMs / 1000).toFixed(2)} s  ${size} B`)
  }
  for (let i = 0; i < runs; i++) {
    log(`archive: round ${i + 1}/${runs}`)
    // Alternate which goes first, so neither always runs on a cooler machine.
    if (i % 2 === 0) {
      await runOurs()
      await runReference()
    } else {
      await runReference()
      await runOurs()
    }
  }

  const oursWall = summary(ours.map((r) => r.wallMs))
  const refWall = summary(reference.map((r) => r.wallMs))
  const cpu = (rs) => median(rs.map((r) => r.userS + r.sysS))
  const ourSize = ours[0].size
  const refSize = median(reference.map((r) => r.size))
  return {
    payload: {
      bytes: payload.payloadBytes,
      packages: payload.packages,
      ourContentSize: warm.archive.contentSize,
      referenceContentSize: refContentSize,
      entries: warm.archive.entries
    },
    runs,
    ours: {
      wallMs: oursWall,
      cpuS: round(cpu(ours), 2),
      maxRssKiB: Math.max(...ours.map((r) => r.maxRssKiB)),
      size: ourSize
    },
    reference: {
      wallMs: refWall,
      cpuS: round(cpu(reference), 2),
      maxRssKiB: Math.max(...reference.map((r) => r.maxRssKiB)),
      size: refSize
    },
    timeRatio: round(refWall.median / oursWall.median, 2),
    pairRatios: ours.map((r, i) => round(reference[i].wallMs / r.wallMs, 2)),
    cpuRatio: round(cpu(reference) / cpu(ours), 2),
    sizeRatio: round(ourSize / refSize, 5),
    sizeExcessPercent: round((ourSize / refSize - 1) * 100, 2),
    oursDistinctSha256: new Set(ours.map((r) => r.sha256)).size,
    referenceDistinctSha256: new Set(reference.map((r) => r.sha256)).size,
    raw: { ours, reference },
    ourArchive: ourOut
  }
}
