import { FledgeError } from '../errors.js'

/**
 * The compressions the kernel unpacks an initramfs from (RD_GZIP, RD_ZSTD,
 * RD_LZ4 in Volant's ch_defconfig), and none.
 */
export type CompressionFormat = 'gzip' | 'zstd' | 'lz4' | 'none'

export interface Compression {
  format: CompressionFormat
  /** Format-specific; undefined = the format's default. */
  level?: number
}

export const COMPRESSION_FORMATS: readonly CompressionFormat[] = ['gzip', 'zstd', 'lz4', 'none']

export const DEFAULT_COMPRESSION: Compression = { format: 'gzip' }

/** fledge's name for gzip; the others follow the tools' own suffixes. */
export const DEFAULT_OUTPUT_NAME: Record<CompressionFormat, string> = {
  gzip: 'plugin.cpio.gz',
  zstd: 'plugin.cpio.zst',
  lz4: 'plugin.cpio.lz4',
  none: 'plugin.cpio'
}

export interface LevelRange {
  min: number
  max: number
  default: number
}

/**
 * Levels each format takes. The defaults, measured on 55 MB of real ELF
 * binaries on a 2-vCPU machine (bench/README.md has the table):
 * - gzip 7: stock zlib, pigz-style blocks on every core (see gzip.ts).
 * - zstd 5: see zstd.ts for why one core; provisional, figures below.
 * - lz4 9 (lz4hc, as the issue's `lz4 -l -9`): 8 MiB blocks on every core.
 * zstd stops at 19, as `zstd` does without --ultra: levels 20-22 use windows
 * of 32-128 MiB, and the kernel allocates the frame's whole window to unpack
 * it (lib/decompress_unzstd.c), beside the image, in VMs that may have 256 MB;
 * level 19's window is 8 MiB.
 */
export const LEVELS: Record<CompressionFormat, LevelRange | undefined> = {
  gzip: { min: 1, max: 9, default: 7 },
  zstd: { min: 1, max: 19, default: 5 },
  lz4: { min: 1, max: 12, default: 9 },
  none: undefined
}

/** The level that will be used: the given one or the format's default (undefined for none). */
export function effectiveLevel(compression: Compression): number | undefined {
  return compression.level ?? LEVELS[compression.format]?.default
}

/** "zstd level 9", "none": for logs, summaries and the build record. */
export function describeCompression(compression: Compression): string {
  const level = effectiveLevel(compression)
  return level === undefined ? compression.format : `${compression.format} level ${level}`
}

/** The canonical text form, as `--compression` and the `compression` input take it: "zstd:9", "none". */
export function formatCompression(compression: Compression): string {
  const level = effectiveLevel(compression)
  return level === undefined ? compression.format : `${compression.format}:${level}`
}

/**
 * Reads "gzip", "zstd", "lz4", "none", or any of the first three with a level
 * after a colon ("zstd:19", "lz4:1"). `where` names the flag or input for errors.
 */
export function parseCompression(text: string, where: string): Compression {
  const value = text.trim().toLowerCase()
  const [name, level, ...extra] = value.split(':')
  const fix = `use one of ${COMPRESSION_FORMATS.join(', ')}, optionally with a level after a colon (e.g. zstd:19, lz4:1, gzip:9).`
  if (!COMPRESSION_FORMATS.includes(name as CompressionFormat) || extra.length > 0) {
    throw new FledgeError(`${where}: unknown compression ${JSON.stringify(text)}.`, { fix })
  }
  const format = name as CompressionFormat
  if (level === undefined) return { format }
  const range = LEVELS[format]
  if (!range) {
    throw new FledgeError(`${where}: ${JSON.stringify(text)} gives a level, but ${format} has none.`, {
      fix: `write just "${format}".`
    })
  }
  const n = /^\d+$/.test(level) ? Number(level) : NaN
  if (!(n >= range.min && n <= range.max)) {
    throw new FledgeError(`${where}: ${format} level ${JSON.stringify(level)} is out of range.`, {
      fix: `use a level from ${range.min} to ${range.max} (${format}:${range.default} is the default)${format === 'zstd' ? '; levels 20-22 would make the kernel allocate a 32-128 MiB window to unpack' : ''}.`
    })
  }
  return { format, level: n }
}
