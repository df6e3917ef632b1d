import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCli } from '../support/cli.js'

describe('inspect (text mode) escapes names', () => {
  it('control characters, a backslash and bytes that are not UTF-8 are shown escaped, one line per entry', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-inspect-'))
    const tree = path.join(root, 'tree')
    fs.mkdirSync(tree)
    const raw = (name: string) => Buffer.from(`${tree}/${name}`, 'latin1')
    fs.writeFileSync(raw('two\nlines'), 'a')
    fs.writeFileSync(raw('\x1b[31mred'), 'b')
    fs.writeFileSync(raw('caf\xe9'), 'c')
    fs.writeFileSync(raw('back\\slash'), 'd')
    fs.symlinkSync(Buffer.from('tab\there', 'latin1'), raw('link'))
    const archive = path.join(root, 'odd.cpio')
    execFileSync('sh', ['-c', `cd '${tree}' && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet > '${archive}'`])

    const run = await runCli(['inspect', archive])
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(5)
    const names = lines.map((line) => line.replace(/^\S+ \d+\/\d+ +\d+ /, ''))
    expect(names.sort()).toEqual(['\\x1b[31mred', 'back\\\\slash', 'caf\\xe9', 'link -> tab\\there', 'two\\nlines'].sort())
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/)

    const json = await runCli(['inspect', archive, '--json'])
    const paths = (JSON.parse(json.stdout) as { path: string }[]).map((record) => record.path)
    expect(paths).toContain('two\nlines')
    expect(paths).toContain('caf\udce9')
  })
})
