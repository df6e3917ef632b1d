/**
 * Our generated notes live between two HTML comments (invisible on GitHub), so a
 * re-run replaces them without touching what the author wrote around them.
 */
export const BODY_BEGIN = '<!-- fledge-action:begin -->'
export const BODY_END = '<!-- fledge-action:end -->'

export function releaseBodyBlock(generated: string): string {
  return `${BODY_BEGIN}\n${generated.trim()}\n${BODY_END}`
}

/**
 * `existing` with its fledge-action block replaced by `generated`, or with the block
 * appended when it has none. The block replaced ends at the first END after a BEGIN and
 * starts at the nearest BEGIN before that END, so a stray marker left by an edit never
 * swallows the author's text.
 */
export function mergeReleaseBody(existing: string, generated: string): string {
  const block = releaseBodyBlock(generated)
  const firstBegin = existing.indexOf(BODY_BEGIN)
  const end = firstBegin < 0 ? -1 : existing.indexOf(BODY_END, firstBegin + BODY_BEGIN.length)
  const begin = end < 0 ? -1 : existing.lastIndexOf(BODY_BEGIN, end)
  if (begin >= 0) return existing.slice(0, begin) + block + existing.slice(end + BODY_END.length)
  const author = existing.trimEnd()
  return author ? `${author}\n\n${block}` : block
}
