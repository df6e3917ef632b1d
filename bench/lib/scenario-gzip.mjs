// Scenario 5: gzip parameters (block size, level, parallelism) on the same cpio,
// against GNU gzip (the reference) and pigz (stock zlib, pigz-style blocks).
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { REPO, WORK, log, median, quote, round, sh, summary, timed } from './util.mjs'

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gzip-worker.mjs')
const KiB = 1024
const MiB = 1024 * KiB

/**
 * src/archive/ as plain JavaScript in bench/work/gen/: every .ts file through
 * TypeScript's transpileModule (no type check), every other file (a worker
 * script, a .wasm) copied as is. So the benchmark measures the compressor as
 * it is in the tree. Packages resolve from the repository's node_modules.
 */
async function transpiledGzip() {
  const ts = (await import('typescript')).default
  const srcDir = path.join(REPO, 'src', 'archive')
  await fs.rm(path.join(WORK, 'gen'), { recursive: true, force: true })
  // A fresh folder per run: Node caches ES modules by URL.
  const gen = path.join(WORK, 'gen', `archive-${Date.now()}`)
  await fs.mkdir(gen, { recursive: true })
  await fs.writeFile(path.join(WORK, 'gen', 'package.json'), '{ "type": "module" }\n')
  const files = []
  for (const name of await fs.readdir(srcDir)) {
    const from = path.join(srcDir, name)
    if (!(await fs.stat(from)).isFile()) continue
    if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
      const out = ts.transpileModule(await fs.readFile(from, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
      }).outputText
      await fs.writeFile(path.join(gen, name.replace(/\.ts$/, '.js')), out)
    } else {
      await fs.copyFile(from, path.join(gen, name))
    }
    files.push(name)
  }
  const file = path.join(gen, 'gzip.js')
  const defaults = (await import(file)).DEFAULT_GZIP
  return { file, defaults, modules: files }
}

const fmtSize = (b) => (b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`)
const label = (v) =>
  v.mode === 'stream'
    ? `node zlib, one stream, level ${v.level}`
    : v.mode === 'node-blocks'
      ? `node zlib, pigz-style, level ${v.level}, ${fmtSize(v.blockSize)}, 4 jobs`
      : `gzip.ts level ${v.level}, blocks ${fmtSize(v.blockSize)}, parallelism ${v.parallelism || 'auto'}`

export async function gzipScenario({
  cpioGz,
  runs,
  levels,
  blockSizes,
  parallelisms,
  extraNodes,
  pigzLevels = [6, 7, 9],
  nodeLevels = [6, 8, 9]
}) {
  const work = path.join(WORK, 'gzip')
  await fs.mkdir(work, { recursive: true })
  const input = path.join(work, 'input.cpio')
  sh(`gzip -dc ${quote(cpioGz)} > ${quote(input)}`)
  const inputSize = (await fs.stat(input)).size
  const { file: module, defaults, modules } = await transpiledGzip()
  log(
    `gzip: input ${inputSize} bytes (our cpio); src/archive/{${modules.join(',')}}, DEFAULT_GZIP ${JSON.stringify(defaults)}`
  )

  const variants = []
  for (const level of levels) {
    for (const blockSize of blockSizes)
      variants.push({ mode: 'blocks', level, blockSize, parallelism: defaults.parallelism })
  }
  for (const parallelism of parallelisms) {
    if (parallelism === defaults.parallelism) continue
    variants.push({
      mode: 'blocks',
      level: defaults.level,
      blockSize: defaults.blockSize,
      parallelism
    })
  }
  // Node's own zlib (Chromium's fork), for comparison whatever gzip.ts uses:
  // the pigz-style scheme on libuv's pool, and one plain stream.
  for (const level of nodeLevels)
    variants.push({ mode: 'node-blocks', level, blockSize: MiB, parallelism: 4 })
  variants.push({ mode: 'stream', level: 9 })
  const out = path.join(work, 'out.gz')
  // pigz runs the same scheme as gzipBlocks (blocks primed with the previous
  // 32 KiB, sync-flushed) on stock zlib: with -b 1024 its size is what our
  // stream would be with stock zlib's deflate instead of Node's.
  const tools = [
    { name: 'gzip -n -9 (GNU gzip, the reference)', argv: ['gzip', '-n', '-9'] },
    { name: 'gzip -n -6 (GNU gzip)', argv: ['gzip', '-n', '-6'] },
    ...pigzLevels.map((level) => ({
      name: `pigz -${level} -b 1024 (stock zlib, our blocking)`,
      argv: ['pigz', '-n', `-${level}`, '-b', '1024'],
      optional: true
    }))
  ]
  const have = (cmd) => {
    try {
      sh(`command -v ${cmd}`)
      return true
    } catch {
      return false
    }
  }
  const results = new Map()
  const record = (key, entry) => {
    if (!results.has(key)) results.set(key, [])
    results.get(key).push(entry)
  }
  for (let rep = 0; rep < runs; rep++) {
    log(`gzip: round ${rep + 1}/${runs}`)
    for (const tool of tools) {
      if (tool.optional && !have(tool.argv[0])) continue
      const r = await timed([
        'bash',
        '-c',
        `${tool.argv.map(quote).join(' ')} -c ${quote(input)} > ${quote(out)}`
      ])
      const size = (await fs.stat(out)).size
      record(tool.name, { ms: r.wallMs, size, cpuS: r.userS + r.sysS, maxRssKiB: r.maxRssKiB })
    }
    for (const v of variants) {
      const r = await timed([process.execPath, WORKER, module, input, out, JSON.stringify(v)])
      const w = JSON.parse(r.stdout)
      record(label(v), {
        ...v,
        ms: w.ms,
        size: w.size,
        sha256: w.sha256,
        cpuS: r.userS + r.sysS,
        maxRssKiB: w.maxRssKiB
      })
    }
  }
  await fs.rm(out, { force: true })

  const gzip9 = median(results.get(tools[0].name).map((r) => r.size))
  const gzip9Ms = median(results.get(tools[0].name).map((r) => r.ms))
  const rows = [...results.entries()].map(([name, rs]) => {
    const size = median(rs.map((r) => r.size))
    const ms = summary(rs.map((r) => r.ms))
    const first = rs[0]
    return {
      name,
      mode: first.mode ?? 'tool',
      level: first.level,
      blockSize: first.blockSize,
      parallelism: first.parallelism,
      ms: { median: round(ms.median, 0), min: round(ms.min, 0), max: round(ms.max, 0) },
      cpuS: round(median(rs.map((r) => r.cpuS)), 2),
      size,
      vsGzip9Percent: round((size / gzip9 - 1) * 100, 2),
      speedupVsGzip9: round(gzip9Ms / ms.median, 2),
      sha256: first.sha256,
      stableSha256: first.sha256 ? new Set(rs.map((r) => r.sha256)).size === 1 : undefined,
      maxRssKiB: Math.max(...rs.map((r) => r.maxRssKiB))
    }
  })

  // Same bytes whatever the parallelism (same level and block size)?
  const byParams = new Map()
  for (const row of rows.filter((r) => r.mode === 'blocks')) {
    const key = `${row.level}/${row.blockSize}`
    if (!byParams.has(key)) byParams.set(key, new Set())
    byParams.get(key).add(row.sha256)
  }
  const parallelismChangesBytes = [...byParams.values()].some((s) => s.size > 1)

  // Same bytes on other Node versions (their bundled zlib)?
  const crossNode = []
  for (const node of extraNodes) {
    const v = { mode: 'blocks', ...defaults }
    try {
      const r = await timed([node, WORKER, module, input, out, JSON.stringify(v)])
      const w = JSON.parse(r.stdout)
      const here = rows.find((row) => row.name === label(v))
      crossNode.push({
        node: w.node,
        zlib: w.zlib,
        size: w.size,
        sha256: w.sha256,
        sameBytes: w.sha256 === here?.sha256,
        ms: round(w.ms, 0)
      })
    } catch (error) {
      crossNode.push({ node, error: String(error.message ?? error).split('\n')[0] })
    }
  }
  await fs.rm(out, { force: true })
  return {
    input: { bytes: inputSize },
    defaults,
    modules,
    runs,
    gzip9: { size: gzip9, ms: round(gzip9Ms, 0) },
    rows,
    parallelismChangesBytes,
    crossNode
  }
}

export const GZIP_DEFAULT_GRID = {
  levels: [6, 7, 8, 9],
  blockSizes: [128 * KiB, 256 * KiB, 1 * MiB, 4 * MiB],
  parallelisms: [1, 2, 3, 4, 8]
}
