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
 * Levels each format takes, and the defaults. Measured on 55.4 MB of real ELF
 * binaries (docker-registry, qemu-system-x86_64, skopeo as one newc cpio) on
 * this 2-vCPU machine, compressStream only, CPU seconds of all threads (the
 * machine was shared, so CPU time is the steady figure; gzip and lz4 spread it
 * over every core, zstd runs on one):
 *
 *   gzip 7   3.91 s CPU  17.50 MB   (6: 3.32 s, 17.55 MB)
 *   zstd 3   0.72 s      17.47 MB
 *   zstd 4   0.80 s      17.33 MB
 *   zstd 5   1.14 s      16.88 MB   <- default
 *   zstd 6   1.64 s      16.46 MB   (9: ~5 s, 16.13 MB; 19: ~23 s native, 14.46 MB)
 *   lz4 1    0.76 s      25.34 MB
 *   lz4 4    1.64 s      21.04 MB
 *   lz4 6    2.28 s      20.77 MB
 *   lz4 9    3.96 s      20.65 MB   (the issue's `lz4 -l -9`)
 *
 * The whole build of the bench's 50 MB set (bundled CLI, idle machine, wall /
 * CPU): gzip 7 2.58 s / 4.5 s, 18.90 MB; lz4 9 3.17 s / 5.1 s, 21.96 MB (+23%
 * wall: over the 10% allowed); lz4 7 2.65 s, 22.01 MB; lz4 5 2.07 s / 3.4 s,
 * 22.17 MB; lz4 4 1.89 s, 22.34 MB. So lz4 defaults to 5: faster to build than
 * gzip, 1% larger than lz4 9, and the kernel unpacks it as fast (lz4's decode
 * cost follows the output, not the level). zstd 5 is ~1.2 s on its one core,
 * about gzip's time even on 4 cores while 3.6% smaller. Higher levels are there
 * for whoever trades build time for size (zstd:19 is ~10x slower).
 *
 * zstd stops at 19, as `zstd` does without --ultra: levels 20-22 use windows
 * of 32-128 MiB, and the kernel allocates the frame's whole window to unpack
 * it (lib/decompress_unzstd.c), beside the image, in VMs that may have 256 MB;
 * level 19's window is 8 MiB.
 */
export const LEVELS: Record<CompressionFormat, LevelRange | undefined> = {
  gzip: { min: 1, max: 9, default: 7 },
  zstd: { min: 1, max: 19, default: 5 },
  lz4: { min: 1, max: 12, default: 5 },
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
