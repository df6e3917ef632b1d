#!/usr/bin/env node
// Third-party notices for a bundle, from the packages ncc actually put in it (its webpack
// stats), not from package.json: what is shipped is what must be credited.
//
//   node scripts/licenses.mjs write <stats.json>...            prints licenses.txt
//   node scripts/licenses.mjs check <licenses.txt> <stats.json>...
//       exits 1 naming every bundled package whose notice is missing or empty, and every
//       notice for a package that is not bundled.
//
// ncc's own --license option is not used: its plugin reads only the modules webpack
// reports per chunk in an ESM build, which left out everything but the lazily loaded
// chunk (one package, p-map, out of about eighty).
import * as fs from 'node:fs'
import * as path from 'node:path'


// For the few packages that ship no license file: the standard text of their SPDX licence.
const STANDARD_TEXTS = {
  MIT: (holder) =>
    `MIT License\n\nCopyright (c) ${holder}\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`,
  ISC: (holder) =>
    `ISC License\n\nCopyright (c) ${holder}\n\nPermission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.\n\nTHE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`
}

const HEADER = /^==== (.+)@([^@\s]+) \((.*)\) ====$/

// C libraries compiled into the .wasm files every face ships (scripts/package.sh copies
// them from src/archive): credited like the npm packages, from their own licence files.
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const WASM_LIBRARIES = [
  { wasm: 'zlib.wasm', id: 'zlib@1.2.13', license: 'Zlib', text: 'c/licenses/zlib.txt' },
  { wasm: 'zstd.wasm', id: 'zstd@1.5.4', license: 'BSD-3-Clause', text: 'c/licenses/zstd.txt' },
  { wasm: 'lz4.wasm', id: 'lz4@1.9.4', license: 'BSD-2-Clause', text: 'c/licenses/lz4.txt' }
].filter((library) => fs.existsSync(path.join(REPO, 'src/archive', library.wasm)))

/** Every module file under node_modules that webpack put into any chunk. */
function bundledFiles(statsFile) {
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'))
  const files = new Set()
  const visit = (module) => {
    // identifier: [type|]loader!loader!…!/absolute/file[|hash]
    const file = String(module.identifier ?? '')
      .replace(/^javascript\/[a-z]+\|/, '')
      .split('!')
      .pop()
      .split('|')[0]
    if (path.isAbsolute(file) && file.includes(`${path.sep}node_modules${path.sep}`)) files.add(file)
    for (const inner of module.modules ?? []) visit(inner)
  }
  for (const module of stats.modules ?? []) visit(module)
  for (const child of stats.children ?? []) for (const module of child.modules ?? []) visit(module)
  return files
}

/** The package a file belongs to: the nearest package.json with a name, inside node_modules. */
function packageOf(file) {
  for (let dir = path.dirname(file); dir.includes(`${path.sep}node_modules${path.sep}`); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (!fs.existsSync(manifest)) continue
    const json = JSON.parse(fs.readFileSync(manifest, 'utf8'))
    if (json.name && json.version) return { dir: fs.realpathSync(dir), json }
  }
  throw new Error(`${file}: no package.json with a name above it`)
}

function bundledPackages(statsFiles) {
  const packages = new Map()
  for (const statsFile of statsFiles) {
    for (const file of bundledFiles(statsFile)) {
      const pkg = packageOf(file)
      packages.set(`${pkg.json.name}@${pkg.json.version}`, pkg)
    }
  }
  return new Map([...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function licenseOf(json) {
  if (typeof json.license === 'string') return json.license
  if (json.license?.type) return json.license.type
  if (Array.isArray(json.licenses)) return json.licenses.map((l) => l.type ?? l).join(' OR ')
  return 'UNKNOWN'
}

function licenseText({ dir, json }) {
  const file = fs.readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.|-|$)/i.test(name))
  if (file) return fs.readFileSync(path.join(dir, file), 'utf8').trim()
  const standard = STANDARD_TEXTS[licenseOf(json)]
  if (!standard) throw new Error(`${json.name}@${json.version} ships no licence file and its licence ${licenseOf(json)} has no standard text here; add one to STANDARD_TEXTS`)
  const author = typeof json.author === 'string' ? json.author : (json.author?.name ?? `the ${json.name} authors`)
  return `(${json.name} ships no licence file; the standard ${licenseOf(json)} text with its package.json author:)\n\n${standard(author)}`
}

function write(statsFiles) {
  const sections = []
  for (const [id, pkg] of bundledPackages(statsFiles)) {
    sections.push(`==== ${id} (${licenseOf(pkg.json)}) ====\n${licenseText(pkg)}\n`)
  }
  for (const library of WASM_LIBRARIES) {
    const text = fs.readFileSync(path.join(REPO, library.text), 'utf8').trim()
    sections.push(`==== ${library.id} (${library.license}) ====\n(compiled into ${library.wasm})\n\n${text}\n`)
  }
  process.stdout.write(`Third-party software bundled in this folder, with its licence.\n\n${sections.join('\n')}`)
}

/** The notices in a licenses.txt: package@version -> text. */
function readNotices(text) {
  const notices = new Map()
  let current
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line)
    if (header) notices.set((current = `${header[1]}@${header[2]}`), '')
    else if (current) notices.set(current, `${notices.get(current)}${line}\n`)
  }
  return notices
}

function check(licensesFile, statsFiles) {
  const notices = readNotices(fs.readFileSync(licensesFile, 'utf8'))
  const bundled = bundledPackages(statsFiles)
  for (const library of WASM_LIBRARIES) bundled.set(library.id, library)
  const problems = []
  for (const id of bundled.keys()) {
    if (!notices.has(id)) problems.push(`${id} is bundled but has no notice`)
    else if (!notices.get(id).trim()) problems.push(`${id} is bundled but its notice has no licence text`)
  }
  for (const id of notices.keys()) if (!bundled.has(id)) problems.push(`${id} has a notice but is not bundled`)
  if (problems.length) {
    process.stderr.write(`${licensesFile}: ${problems.join('; ')}. Fix: run npm run package and commit dist/.\n`)
    process.exitCode = 1
  } else process.stdout.write(`${licensesFile}: ${bundled.size - WASM_LIBRARIES.length} bundled packages and ${WASM_LIBRARIES.length} libraries compiled to WebAssembly, each with its notice.\n`)
}

const [command, ...args] = process.argv.slice(2)
if (command === 'write') write(args)
else if (command === 'check') check(args[0], args.slice(1))
else {
  process.stderr.write('usage: licenses.mjs write <stats.json>... | check <licenses.txt> <stats.json>...\n')
  process.exitCode = 2
}
