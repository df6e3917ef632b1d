// Scenario 3: our build of a generated 1 GiB payload: peak RSS (and time).
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { buildOurs } from './ours.mjs'
import { WORK, loadavg, log, round, summary } from './util.mjs'

export async function largeScenario({ payload, runs }) {
  const output = path.join(WORK, 'large', 'out.cpio.gz')
  const rows = []
  for (let i = 0; i < runs; i++) {
    log(`large: build ${i + 1}/${runs} of ${(payload.payloadBytes / 2 ** 30).toFixed(2)} GiB`)
    const load = loadavg()
    const r = await buildOurs({ cwd: payload.dir, config: payload.config, output })
    rows.push({
      wallMs: round(r.wallMs, 0),
      cpuS: round(r.userS + r.sysS, 2),
      maxRssKiB: r.maxRssKiB,
      size: r.archive.size,
      contentSize: r.archive.contentSize,
      sha256: r.archive.sha256,
      loadavg: load
    })
    log(
      `  ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB, ${r.archive.size} B`
    )
  }
  await fs.rm(output, { force: true })
  return {
    payloadBytes: payload.payloadBytes,
    runs,
    wallMs: summary(rows.map((r) => r.wallMs)),
    maxRssKiB: Math.max(...rows.map((r) => r.maxRssKiB)),
    maxRssMB: round((Math.max(...rows.map((r) => r.maxRssKiB)) * 1024) / 1e6, 1),
    size: rows[0].size,
    contentSize: rows[0].contentSize,
    throughputMBps: round(
      rows[0].contentSize / 1e6 / (summary(rows.map((r) => r.wallMs)).median / 1000),
      1
    ),
    distinctSha256: new Set(rows.map((r) => r.sha256)).size,
    raw: rows
  }
}
