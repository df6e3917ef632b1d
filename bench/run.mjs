#!/usr/bin/env node
// fledge-action benchmark (issue #4). `npm run bench -- --help` for the options.
// Plain Node ESM, no dependencies beyond what the repository already has.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { machine } from './lib/machine.mjs'
import { prepareCli } from './lib/ours.mjs'
import { preparePayload50, preparePayloadLarge } from './lib/payload.mjs'
import { archiveScenario } from './lib/scenario-archive.mjs'
import { bootScenario } from './lib/scenario-boot.mjs'
import { bootCostScenario } from './lib/scenario-bootcost.mjs'
import { GZIP_DEFAULT_GRID, gzipScenario } from './lib/scenario-gzip.mjs'
import { largeScenario } from './lib/scenario-large.mjs'
import { REPO, RESULTS, WORK, loadavg, log, mb, round, run, setNiceness } from './lib/util.mjs'

const HELP = `Usage: npm run bench -- [options]

Scenarios (all by default; pick with --only a,b):
  archive  ~50 MB of Debian binaries: our CLI build (warm cache) vs the reference
           pipeline (staging copy, touch, find | cpio, gzip -n -9), alternating
  large    a generated 1 GiB payload: our peak RSS and time
  boot     our C init's hand-over time in QEMU (TCG): "Run /init" -> agent
  gzip     gzip block size / level / parallelism on our cpio vs gzip -9
  bootcost each compression (gzip, zstd, lz4, none) on three payloads: size,
           build time and the kernel's unpack time under QEMU -icount
           (our CLI's boot --compare)

Options:
  --runs N              archive rounds, each runs both pipelines (default 5)
  --large-runs N        builds of the 1 GiB payload (default 2)
  --large-bytes N       size of the generated payload (default 1073741824)
  --boots N             QEMU boots per image and guest clock (default 3)
  --boot-clocks C,..    wall (plain TCG) and/or icount (-icount shift=0) (default wall,icount)
  --gzip-runs N         rounds over the gzip grid (default 3)
  --gzip-levels L,..    (default ${GZIP_DEFAULT_GRID.levels})
  --gzip-blocks B,..    block sizes in bytes (default ${GZIP_DEFAULT_GRID.blockSizes})
  --gzip-parallelism P,.. (default ${GZIP_DEFAULT_GRID.parallelisms})
  --extra-node PATH     also compress with this node binary and compare bytes (repeatable)
  --nice=N              run every timed command (ours, the reference, the gzip
                        variants) under nice -n N; on a shared machine a negative N
                        (root) keeps other work from taking a core mid-run. Both
                        pipelines get the same priority. Default 0 (as is).

Environment: FLEDGE_CLI (our CLI entry; default dist/cli/index.js), FLEDGE_INIT_SOURCE
(passed through to the CLI), BENCH_KERNEL (a vmlinuz; default .kernel/vmlinuz),
BENCH_WORK (scratch folder; default bench/work), BENCH_PIN=0 (latest Debian packages).
Results: bench/results/<time>.json and bench/results/latest.json.`

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string', default: '5' },
    'large-runs': { type: 'string', default: '2' },
    'large-bytes': { type: 'string', default: String(2 ** 30) },
    boots: { type: 'string', default: '3' },
    'boot-clocks': { type: 'string', default: 'wall,icount' },
    'gzip-runs': { type: 'string', default: '3' },
    'gzip-levels': { type: 'string' },
    'gzip-blocks': { type: 'string' },
    'gzip-parallelism': { type: 'string' },
    'extra-node': { type: 'string', multiple: true, default: [] },
    nice: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (values.help) {
  process.stdout.write(`${HELP}\n`)
  process.exit(0)
}
const int = (name) => {
  const n = Number(values[name])
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} wants a positive integer, got ${values[name]}`)
  return n
}
const list = (name, fallback) => (values[name] ? values[name].split(',').map(Number) : fallback)
const all = ['archive', 'large', 'boot', 'gzip', 'bootcost']
const only = values.only ? values.only.split(',') : all
for (const s of only)
  if (!all.includes(s)) throw new Error(`unknown scenario ${s} (have ${all.join(', ')})`)

function gitState() {
  try {
    const head = run('git', ['-C', REPO, 'rev-parse', 'HEAD']).trim()
    const dirty = run('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'c'])
      .split('\n')
      .filter(Boolean)
    return { head, uncommittedInSrc: dirty }
  } catch {
    return null
  }
}

const niceness = Number(values.nice)
if (!Number.isInteger(niceness) || niceness < -20 || niceness > 19)
  throw new Error(`--nice wants -20..19, got ${values.nice}`)
setNiceness(niceness)

const GOALS = {
  timeRatio: 2.0,
  sizeExcessPercent: 0.5,
  largeRssMB: 200,
  handoverMs: 10,
  lz4UnpackVsGzipPercent: 35
}

const started = new Date()
await fs.mkdir(WORK, { recursive: true })
const results = {
  started: started.toISOString(),
  machine: machine(),
  cli: await prepareCli(),
  git: gitState(),
  loadavgAtStart: loadavg(),
  niceness,
  goals: GOALS,
  scenarios: {}
}
log(
  `${results.machine.nproc} CPUs (${results.machine.cpuModel}), ${results.machine.ramGiB} GiB, Node ${results.machine.node}; CLI ${results.cli.entry} (sha256 ${results.cli.sha256.slice(0, 12)})`
)

const payload = await preparePayload50()
log(`payload: ${mb(payload.payloadBytes)} MB in ${payload.dir}`)

let archive
if (only.includes('archive') || only.includes('gzip')) {
  archive = await archiveScenario({ payload, runs: only.includes('archive') ? int('runs') : 1 })
  if (only.includes('archive')) {
    results.scenarios.archive = { ...archive }
    delete results.scenarios.archive.ourArchive
  }
}
if (only.includes('gzip')) {
  results.scenarios.gzip = await gzipScenario({
    cpioGz: archive.ourArchive,
    runs: int('gzip-runs'),
    levels: list('gzip-levels', GZIP_DEFAULT_GRID.levels),
    blockSizes: list('gzip-blocks', GZIP_DEFAULT_GRID.blockSizes),
    parallelisms: list('gzip-parallelism', GZIP_DEFAULT_GRID.parallelisms),
    extraNodes: values['extra-node']
  })
}
if (only.includes('boot')) {
  results.scenarios.boot = await bootScenario({
    boots: int('boots'),
    busybox: payload.busybox,
    clocks: values['boot-clocks'].split(',')
  })
}
if (only.includes('bootcost')) {
  results.scenarios.bootcost = await bootCostScenario({ payload50: payload })
}
if (only.includes('large')) {
  const large = await preparePayloadLarge({ bytes: int('large-bytes') })
  results.scenarios.large = await largeScenario({ payload: large, runs: int('large-runs') })
}
results.finished = new Date().toISOString()
results.loadavgAtEnd = loadavg()

// ---------------------------------------------------------------------------
// Goals and a summary.
const s = results.scenarios
const verdicts = []
const verdict = (name, ok, detail) => verdicts.push({ goal: name, ok, detail })
if (s.archive) {
  verdict(
    `archive ${GOALS.timeRatio}x faster than the reference`,
    s.archive.timeRatio >= GOALS.timeRatio,
    `${s.archive.timeRatio}x`
  )
  verdict(
    `archive at most ${GOALS.sizeExcessPercent}% larger than gzip -9`,
    s.archive.sizeExcessPercent <= GOALS.sizeExcessPercent,
    `${s.archive.sizeExcessPercent >= 0 ? '+' : ''}${s.archive.sizeExcessPercent}%`
  )
}
if (s.large)
  verdict(
    `1 GiB build peak RSS <= ${GOALS.largeRssMB} MB`,
    s.large.maxRssMB <= GOALS.largeRssMB,
    `${s.large.maxRssMB} MB`
  )
if (s.boot) {
  for (const [clock, c] of Object.entries(s.boot.clocks)) {
    verdict(
      `init hand-over <= ${GOALS.handoverMs} ms (TCG, ${clock === 'wall' ? 'wall clock' : 'icount: 1 ns per instruction'})`,
      c.handoverMs.median <= GOALS.handoverMs,
      `${c.handoverMs.median} ms`
    )
  }
}
if (s.bootcost) {
  const rows = s.bootcost.payloads.find((p) => p.name === '50MB')?.rows ?? []
  const unpack = (format) => rows.find((r) => r.format === format)?.unpackMs
  const percent = Math.round((unpack('lz4') / unpack('gzip')) * 1000) / 10
  verdict(
    `50 MB payload: lz4 unpack <= ${GOALS.lz4UnpackVsGzipPercent}% of gzip's (virtual ms)`,
    percent <= GOALS.lz4UnpackVsGzipPercent,
    `${unpack('lz4')} vs ${unpack('gzip')} ms: ${percent}%`
  )
}
if (s.gzip)
  verdict(
    'parallelism never changes the bytes',
    !s.gzip.parallelismChangesBytes,
    s.gzip.parallelismChangesBytes ? 'differs' : 'identical'
  )
results.verdicts = verdicts

await fs.mkdir(RESULTS, { recursive: true })
const stamp = started.toISOString().replace(/[:.]/g, '-')
const file = path.join(RESULTS, `${stamp}.json`)
await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`)
await fs.writeFile(path.join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)

const out = []
if (niceness) out.push(`(timed commands ran under nice -n ${niceness})`)
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`
if (s.archive) {
  const a = s.archive
  out.push(
    `archive (${mb(a.payload.bytes)} MB payload, ${a.runs} alternating rounds, medians):`,
    `  ours       ${sec(a.ours.wallMs.median)}  (min ${sec(a.ours.wallMs.min)}, max ${sec(a.ours.wallMs.max)}; cpu ${a.ours.cpuS} s; peak RSS ${round(a.ours.maxRssKiB / 1024, 0)} MiB)  ${a.ours.size} B`,
    `  reference  ${sec(a.reference.wallMs.median)}  (min ${sec(a.reference.wallMs.min)}, max ${sec(a.reference.wallMs.max)}; cpu ${a.reference.cpuS} s)  ${a.reference.size} B`,
    `  time ratio reference/ours ${a.timeRatio}x (per round: ${a.pairRatios.join(', ')}; cpu ratio ${a.cpuRatio}x)`,
    `  size ratio ours/reference ${a.sizeRatio} (${a.sizeExcessPercent >= 0 ? '+' : ''}${a.sizeExcessPercent}%)`,
    `  distinct sha256 over the rounds: ours ${a.oursDistinctSha256}, reference ${a.referenceDistinctSha256}`
  )
}
if (s.gzip) {
  const g = s.gzip
  out.push(
    `gzip (${mb(g.input.bytes)} MB cpio; medians of ${g.runs}; DEFAULT_GZIP ${JSON.stringify(g.defaults)}):`
  )
  for (const r of g.rows) {
    out.push(
      `  ${r.name.padEnd(56)} ${String(r.ms.median).padStart(6)} ms  ${String(r.size).padStart(9)} B  ${(r.vsGzip9Percent >= 0 ? '+' : '') + r.vsGzip9Percent}% vs gzip -9  ${r.speedupVsGzip9}x`
    )
  }
  out.push(`  parallelism changes bytes: ${g.parallelismChangesBytes ? 'YES' : 'no'}`)
  for (const c of g.crossNode)
    out.push(
      `  ${c.node} (zlib ${c.zlib}): ${c.error ?? (c.sameBytes ? 'same bytes' : `DIFFERENT bytes (${c.size} B)`)}`
    )
}
if (s.boot) {
  const b = s.boot
  out.push(
    `boot (QEMU TCG, ${b.boots} boots per image and clock; median [min-max], ms from "Run /init"):`
  )
  for (const [clock, c] of Object.entries(b.clocks)) {
    const f = (x) => `${x.median} [${x.min}-${x.max}]`
    out.push(
      `  ${clock.padEnd(6)} our init -> agent ${f(c.handoverMs)} (kmsg); CLOCK_BOOTTIME ${f(c.handoverBoottimeMs)}; /proc/uptime ${f(c.handoverUptimeMs)}`,
      `         agent as /init (floor) ${f(c.baselineMs)}; our init adds ${c.initOverheadMs}; Run /init at ${c.runInitS} s; initramfs unpack ${c.initramfsUnpackMs} ms`
    )
  }
}
if (s.bootcost) {
  out.push(`bootcost (QEMU -icount, ${s.bootcost.kernelPackage ?? s.bootcost.kernel}; virtual ms):`)
  out.push('  payload     format   size (B)     build ms  build cpu ms  unpack ms  start -> /init ms')
  for (const p of s.bootcost.payloads) {
    for (const r of p.rows) {
      out.push(
        `  ${p.name.padEnd(11)} ${`${r.format}${r.level === undefined ? '' : `:${r.level}`}`.padEnd(8)} ${String(r.size).padStart(10)}  ${String(r.buildMs).padStart(8)}  ${String(r.buildCpuMs).padStart(12)}  ${r.unpackMs.toFixed(1).padStart(9)}  ${r.startToInitMs.toFixed(1).padStart(17)}`
      )
    }
  }
}
if (s.large) {
  const l = s.large
  out.push(
    `large (${mb(l.payloadBytes)} MB payload, ${l.runs} builds): ${sec(l.wallMs.median)} median, peak RSS ${l.maxRssMB} MB, ${l.size} B out, ${l.throughputMBps} MB/s, distinct sha256 ${l.distinctSha256}`
  )
}
out.push('goals:')
for (const v of verdicts) out.push(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.goal}: ${v.detail}`)
out.push(`results: ${path.relative(process.cwd(), file)}`)
process.stdout.write(`${out.join('\n')}\n`)
