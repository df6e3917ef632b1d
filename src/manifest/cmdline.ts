import { gzipSync } from 'node:zlib'

/**
 * volantd hands the manifest to the agent as `volant.manifest=<base64url,
 * no padding, of gzip(JSON)>` on the kernel command line.
 */
export function encodeManifestParam(manifestJson: string): string {
  // level 9 and a fixed header (mtime 0) so the same manifest gives the same command line.
  return gzipSync(Buffer.from(manifestJson, 'utf8'), { level: 9 }).toString('base64url')
}

/**
 * x86-64 kernels cut the command line at COMMAND_LINE_SIZE (2048 bytes on many
 * builds, counting the terminating NUL); past it the guest hangs without a word.
 */
export const COMMAND_LINE_LIMIT = 2048

export function commandLineFits(cmdline: string): boolean {
  return Buffer.byteLength(cmdline, 'utf8') < COMMAND_LINE_LIMIT
}
