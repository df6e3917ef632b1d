/** A file resolved onto local disk, with what is known about where it came from. */
export interface ResolvedFile {
  path: string
  size: number
  sha256: string
  cacheHit: boolean
}
