import { FledgeError } from '../errors.js'
import type { Entry } from '../image/entry.js'
import { largestEntries } from '../image/largest.js'
import { formatBytes } from '../release/notes.js'

export function checkSizeBudget(size: number, maxSize: number | undefined, entries: readonly Entry[]): void {
  if (maxSize === undefined || size <= maxSize) return
  const top = largestEntries(entries, 10)
    .map((e) => `${e.path} ${formatBytes(e.size)}`)
    .join(', ')
  throw new FledgeError(`the image is ${formatBytes(size)} compressed, over the max-size budget of ${formatBytes(maxSize)}. Largest entries: ${top}.`, {
    key: 'max-size',
    fix: 'strip binaries (strip -s, Go: -ldflags="-s -w"), leave out what the workload does not need, or raise max-size.'
  })
}
