/**
 * The job summary as a reviewer sees it: the HTML the Action appends to
 * GITHUB_STEP_SUMMARY, in a page styled like GitHub's summary pane, rendered by a
 * real headless Chromium into test-artifacts/summary-<name>.png (kept after the
 * run, for people to look at; the tests check the order of what it shows).
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const ARTIFACTS = path.join(REPO, 'test-artifacts')
const CHROMIUM = '/usr/bin/chromium-headless-shell'
const WIDTH = 1012

// GitHub's summary pane: system font, 14px, bordered tables, folded <details>.
const STYLE = `
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; padding: 16px 24px; width: ${WIDTH - 48}px; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; margin: 0 0 16px; }
h3 { font-size: 1.25em; margin: 24px 0 16px; }
a { color: #0969da; text-decoration: none; }
p { margin: 0 0 12px; }
pre { background: #f6f8fa; border-radius: 6px; padding: 12px 16px; overflow: auto; font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; margin: 4px 0 12px; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; margin: 0 0 16px; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; text-align: left; }
details { margin: 0 0 12px; } summary { cursor: pointer; font-weight: 600; }
`

export interface Screenshot {
  html: string
  png: string
  width: number
  height: number
}

export function screenshotSummary(summary: string, name: string): Screenshot {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run bash scripts/setup.sh (it installs chromium-headless-shell).`)
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  const html = path.join(ARTIFACTS, `summary-${name}.html`)
  const png = path.join(ARTIFACTS, `summary-${name}.png`)
  fs.writeFileSync(html, `<!doctype html><meta charset="utf-8"><title>${name}</title><style>${STYLE}</style>\n${summary}\n`)
  fs.rmSync(png, { force: true })
  execFileSync(
    CHROMIUM,
    [
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      // Nothing in the page may reach a network: every name fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--window-size=${WIDTH},1300`,
      `--screenshot=${png}`,
      `file://${html}`
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }
  )
  const header = fs.readFileSync(png).subarray(0, 24)
  return { html, png, width: header.readUInt32BE(16), height: header.readUInt32BE(20) }
}

/** The summary's text in reading order: headings, paragraphs' bold labels, folded sections. */
export function summaryOutline(summary: string): string[] {
  const outline: string[] = []
  for (const match of summary.matchAll(/<h[23]>(.*?)<\/h[23]>|<p><b>(.*?)<\/b>|<summary>(.*?)<\/summary>/g)) {
    outline.push((match[1] ?? match[2] ?? match[3] ?? '').replace(/<[^>]+>/g, ''))
  }
  return outline
}
