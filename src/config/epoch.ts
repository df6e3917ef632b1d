import { FledgeError } from '../errors.js'
import { DEFAULT_EPOCH } from './types.js'

/**
 * SOURCE_DATE_EPOCH per reproducible-builds.org: decimal seconds since the
 * epoch. A malformed value is an error, never silently ignored. cpio stores
 * mtime in 32 bits.
 */
export function parseSourceDateEpoch(value: string | undefined, origin = 'SOURCE_DATE_EPOCH'): number {
  if (value === undefined || value === '') return DEFAULT_EPOCH
  const trimmed = value.trim()
  if (!/^[0-9]+$/.test(trimmed) || Number(trimmed) > 0xffffffff) {
    throw new FledgeError(`'${value}' is not a valid timestamp.`, {
      key: origin,
      fix: 'set it to whole seconds since 1970-01-01 UTC, e.g. $(git log -1 --format=%ct), or unset it to use 1704067200.'
    })
  }
  return Number(trimmed)
}
