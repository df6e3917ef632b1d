/** The guest's serial console as it arrives: searchable for markers, with a tail for reports. */
export class ConsoleLog {
  private text = ''
  private dropped = 0
  // A boot log is tens of KB; a guest that floods its console must not eat our memory.
  private static readonly KEEP = 1024 * 1024

  /** Characters received so far, including any dropped from the front. */
  get length(): number {
    return this.dropped + this.text.length
  }

  append(chunk: string): void {
    this.text += chunk
    if (this.text.length > ConsoleLog.KEEP * 2) {
      const cut = this.text.length - ConsoleLog.KEEP
      this.text = this.text.slice(cut)
      this.dropped += cut
    }
  }

  /** Where the first of `markers` starts, as an offset into everything received, from `fromOffset` on. */
  find(markers: readonly string[], fromOffset = 0): number | undefined {
    const start = Math.max(0, fromOffset - this.dropped)
    let first: number | undefined
    for (const marker of markers) {
      const at = this.text.indexOf(marker, start)
      if (at >= 0 && (first === undefined || at < first)) first = at
    }
    return first === undefined ? undefined : this.dropped + first
  }

  /** The whole line around `offset` (as received so far). */
  lineAt(offset: number): string {
    const at = Math.max(0, offset - this.dropped)
    const start = this.text.lastIndexOf('\n', at) + 1
    const newline = this.text.indexOf('\n', at)
    return this.text.slice(start, newline < 0 ? this.text.length : newline).trim()
  }

  /** The last `lines` lines, or the last ones up to and including the line at `endOffset`. */
  tail(lines = 40, endOffset?: number): string {
    let text = this.text
    if (endOffset !== undefined) {
      const newline = text.indexOf('\n', Math.max(0, endOffset - this.dropped))
      if (newline >= 0) text = text.slice(0, newline)
    }
    return text.replace(/\n+$/, '').split('\n').slice(-lines).join('\n')
  }
}
