import { FledgeError } from '../errors.js'

/** What volantd accepts: `sha256:<64 hex>` or bare 64 hex, case-insensitive hex. */
export const ACCEPTED_CHECKSUM = /^(sha256:)?[0-9a-fA-F]{64}$/

/** The form this project writes: `sha256:` + lowercase hex. */
export function normalizeChecksum(checksum: string): string {
  if (!ACCEPTED_CHECKSUM.test(checksum)) {
    throw new FledgeError(`"${checksum}" is not a sha256 checksum.`, {
      key: 'checksum',
      fix: 'pass "sha256:" followed by the 64 hex digits of the sha256 of plugin.cpio.gz.'
    })
  }
  return `sha256:${checksum.replace(/^sha256:/, '').toLowerCase()}`
}
