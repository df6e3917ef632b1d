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
