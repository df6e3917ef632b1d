/**
 * `boot --compare`: what each compression costs, on this image. The image is downloaded once
 * and unpacked by the kernel on every boot, so a format is a trade of size against unpack time.
 * Each format is built into one temp folder and booted instruction-counted (-icount), so the
 * unpack figures are the kernel's own, in virtual ms that do not depend on the host or its load.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { COMPRESSION_FORMATS, DEFAULT_OUTPUT_NAME, type CompressionFormat } from '../archive/compression.js'
import { build } from '../build.js'
import { removeLater } from '../cleanup.js'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { bootImage } from './smoke.js'

export interface CompareOptions {
  configPath: string
  /** Path of the kernel to boot (see resolveKernel); it needs RD_GZIP, RD_ZSTD and RD_LZ4. */
  kernel: string
  log: Logger
  sourceDateEpoch?: string | undefined
  useCache?: boolean
  allowDynamic?: boolean
  apiUrl?: string | undefined
  token?: string | undefined
  /** Per boot; default 120. */
  timeoutSeconds?: number
  formats?: readonly CompressionFormat[]
}

export interface FormatCost {
  format: CompressionFormat
  /** Level the build used (none has none). */
  level?: number
  /** Bytes of the image: what every host downloads once. */
  size: number
  sha256: string
  /** The build's archive stage (cpio + compression), wall ms on this machine. */
  buildMs: number
  /**
   * CPU ms of the whole build, every thread of this process (the compressors' workers too):
   * unlike wall time, hardly moved by other work on a shared machine.
   */
  buildCpuMs: number
  /** The kernel's unpack, virtual ms (1 ns per guest instruction). */
  unpackMs: number
  /** Kernel start → `Run /init`, virtual ms. */
  startToInitMs: number
}

export async function compareFormats(options: CompareOptions): Promise<FormatCost[]> {
  const { log } = options
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'fledge-compare-'))
  const folder = removeLater(dir)
  try {
    const rows: FormatCost[] = []
    for (const format of options.formats ?? COMPRESSION_FORMATS) {
      const output = path.join(dir, DEFAULT_OUTPUT_NAME[format])
      const cpuBefore = process.cpuUsage()
      const built = await build({
        configPath: options.configPath,
        outputPath: output,
        compression: { format },
        sourceDateEpoch: options.sourceDateEpoch,
        ...(options.useCache !== undefined ? { useCache: options.useCache } : {}),
        ...(options.allowDynamic !== undefined ? { allowDynamic: options.allowDynamic } : {}),
        apiUrl: options.apiUrl,
        token: options.token,
        log
      })
      const cpu = process.cpuUsage(cpuBefore)
      // The kernel's hand-over line is all the comparison needs: no settle time after it.
      const boot = await bootImage({
        archive: output,
        kernel: options.kernel,
        icount: true,
        settleMs: 0,
        timeoutSeconds: options.timeoutSeconds ?? 120,
        log
      })
      if (!boot.ok) {
        throw new FledgeError(`the ${format} image did not boot: ${boot.reason ?? 'unknown reason'}`, {
          fix: `boot with a kernel built with RD_${format === 'zstd' ? 'ZSTD' : format === 'lz4' ? 'LZ4' : 'GZIP'}=y (Volant's has RD_GZIP, RD_ZSTD and RD_LZ4), or compare fewer formats.`
        })
      }
      const virtual = boot.cost?.virtual
      if (!virtual) {
        throw new FledgeError(`the ${format} image booted, but its unpack time could not be read: ${boot.costMissing ?? 'unknown reason'}.`, {
          fix: 'boot with a kernel that has CONFIG_PRINTK (its log carries the lines the cost is read from).'
        })
      }
      const level = built.compression.level
      rows.push({
        format,
        ...(level !== undefined ? { level } : {}),
        size: built.archive.size,
        sha256: built.archive.sha256,
        buildMs: Math.round(built.timings.archive),
        buildCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        unpackMs: virtual.unpackMs,
        startToInitMs: virtual.startToInitMs
      })
      // Four copies of a large image need not sit in /tmp at once.
      await fs.promises.rm(output, { force: true })
    }
    return rows
  } finally {
    await folder.dispose()
  }
}

/** The comparison as a text table, with what its columns mean. */
export function formatComparison(rows: readonly FormatCost[]): string {
  const gzip = rows.find((row) => row.format === 'gzip')
  const header = ['format', 'size', 'build ms', 'build cpu ms', 'unpack ms', 'start → /init ms']
  if (gzip) header.push('unpack vs gzip')
  const table = [
    header,
    ...rows.map((row) => {
      const cells = [
        row.level === undefined ? row.format : `${row.format}:${row.level}`,
        `${(row.size / 1e6).toFixed(2)} MB`,
        String(row.buildMs),
        String(row.buildCpuMs),
        row.unpackMs.toFixed(1),
        row.startToInitMs.toFixed(1)
      ]
      if (gzip) cells.push(`${Math.round((row.unpackMs / gzip.unpackMs) * 100)}%`)
      return cells
    })
  ]
  const widths = header.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)))
  const lines = table.map((cells) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')
  )
  lines.push(
    '',
    'build ms: cpio + compression on this machine (wall); build cpu ms: the whole build, all threads.',
    'unpack, start → /init: the kernel\'s own',
    'timestamps under QEMU -icount, 1 ns per guest instruction (virtual ms, the same on any host).',
    'The image is downloaded once and unpacked on every boot.'
  )
  return lines.join('\n')
}
