/**
 * Whether publishing `tag` may make it the repository's Latest release: never when a
 * higher version is Latest already (publishing v1.0.1 after v2.0.0, or re-running an
 * old tag's job). GitHub's own `legacy` orders by date first; this orders by version.
 */
import type { MakeLatest } from './releaser.js'

interface Version {
  core: [number, number, number]
  prerelease: string[]
}

/** "v1.2.3", "1.2.3-rc.1" → parts; anything else (e.g. "nightly") → undefined. */
export function parseVersionTag(tag: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(tag)
  if (!match) return undefined
  return {
    core: [Number(match[1]), Number(match[2]), Number(match[3])],
    prerelease: match[4] ? match[4].split('.') : []
  }
}

/** Semantic-versioning precedence (semver.org §11): negative when a < b. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return (a.core[i] ?? 0) - (b.core[i] ?? 0)
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i]
    const y = b.prerelease[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (x === y) continue
    const xn = /^\d+$/.test(x)
    const yn = /^\d+$/.test(y)
    if (xn && yn) return Number(x) - Number(y)
    if (xn !== yn) return xn ? -1 : 1
    return x < y ? -1 : 1
  }
  return 0
}

/**
 * `true` when `tag` is at least the current Latest's version (or there is none);
 * `false` when it is lower; `legacy` (GitHub decides) when either is not a version.
 */
export function makeLatestFor(tag: string, latestTag: string | undefined): MakeLatest {
  if (latestTag === undefined || latestTag === tag) return 'true'
  const ours = parseVersionTag(tag)
  const theirs = parseVersionTag(latestTag)
  if (!ours || !theirs) return 'legacy'
  return compareVersions(ours, theirs) >= 0 ? 'true' : 'false'
}
