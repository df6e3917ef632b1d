import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../support/cli.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')

/** The rows of the first table under `## heading`, cells trimmed, `\|` unescaped. */
function table(heading: string): string[][] {
  const start = README.indexOf(`\n## ${heading}\n`)
  expect(start).toBeGreaterThan(-1)
  const section = README.slice(start + heading.length + 5).split(/\n## /)[0] as string
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|'))
    )
}

/** action.yml's inputs (name → default) and outputs, read line by line (its layout is fixed). */
function actionYml(): { inputs: Map<string, string>; outputs: string[] } {
  const inputs = new Map<string, string>()
  const outputs: string[] = []
  let section = ''
  let current = ''
  for (const line of fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) section = line.replace(/:.*/, '')
    const name = /^ {2}([\w-]+):\s*$/.exec(line)?.[1]
    if (name && section === 'inputs') inputs.set((current = name), '')
    if (name && section === 'outputs') outputs.push(name)
    const value = /^ {4}default:\s*(.*)$/.exec(line)?.[1]
    if (value !== undefined && section === 'inputs') inputs.set(current, value.replace(/^'(.*)'$/, '$1'))
  }
  return { inputs, outputs }
}

const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)

describe('README says what the code does', () => {
  it('Inputs: every action.yml input, with its true default', () => {
    const { inputs } = actionYml()
    const rows = table('Inputs')
    expect(rows.map((r) => code(r[0] as string)[0]).sort()).toEqual([...inputs.keys()].sort())
    for (const [name, fallback] of inputs) {
      const cell = (rows.find((r) => code(r[0] as string)[0] === name) as string[])[1] as string
      // A literal default is shown as that literal; an empty one is either blank or described in words.
      if (fallback) expect([name, code(cell)[0]]).toEqual([name, fallback])
      else expect([name, /^`[^`]*`$/.test(cell)]).toEqual([name, false])
    }
  })

  it('Outputs: every action.yml output, and no other', () => {
    const names = table('Outputs').flatMap((r) => code(r[0] as string))
    expect(names.sort()).toEqual(actionYml().outputs.sort())
  })

  it('Local CLI: every command with exactly the synopsis --help prints (flags and defaults)', async () => {
    const help = (await runCli(['--help'])).stdout
    const commands = help.split('Commands:\n')[1]?.split('\n\n')[0] as string
    // "build     [-c …]\n            [--allow-dynamic] …\n            Build the…": first lines until the description.
    const synopses = new Map<string, string>()
    let current = ''
    for (const line of commands.split('\n')) {
      const head = /^ {2}(\w+) +(.*)$/.exec(line)
      if (head) synopses.set((current = head[1] as string), `${head[1]} ${head[2]}`)
      else if (/^ +[[-]/.test(line) && current) synopses.set(current, `${synopses.get(current)} ${line.trim()}`)
      else current = ''
    }
    const rows = table('Local CLI').map((r) => code(r[0] as string)[0] as string)
    expect(rows).toEqual([...synopses.values()])
  })

  // A test that asserts the output is what proves the code prints it.
  it('Troubleshooting: every quoted message is one a test sees the code print', () => {
    const tests = readAll(path.join(REPO, '__tests__')).replace(/\\/g, '')
    const missing: string[] = []
    for (const row of table('Troubleshooting')) {
      for (const message of code(row[0] as string)) {
        // "…" and "N" stand for the variable parts; every literal piece must be printed and tested.
        for (const piece of message.split(/…|\bN\b/).map((p) => p.trim()).filter((p) => p.length >= 6)) {
          if (!tests.includes(piece)) missing.push(`${piece}: no test checks it`)
        }
      }
    }
    expect(missing).toEqual([])
  })
})

describe('package.json', () => {
  it('every runtime dependency is imported by src/ (ncc bundles them all)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const sources = readAll(path.join(REPO, 'src'))
    expect(Object.keys(pkg.dependencies).filter((name) => !sources.includes(`from '${name}'`) && !sources.includes(`from '${name}/`))).toEqual([])
  })

  it('engines.node is what the README states', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }
    expect(pkg.engines.node).toBe('>=20')
    expect(README).toContain('Node 20+')
  })
})

function readAll(dir: string): string {
  let text = ''
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) text += readAll(file)
    else if (/\.(ts|mjs|c)$/.test(entry.name)) text += `${fs.readFileSync(file, 'utf8')}\n`
  }
  return text
}
