import { entrySize, type Entry } from './entry.js'

export function largestEntries(entries: readonly Entry[], count = 10): { path: string; size: number; origin: string }[] {
  return entries
    .filter((e) => e.type === 'file')
    .map((e) => ({ path: `/${e.path}`, size: entrySize(e), origin: e.origin }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, count)
}
