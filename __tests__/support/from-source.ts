/**
 * The faces as real processes, run from the TypeScript sources rather than from dist/
 * (which is only rebuilt at release time): src/ is transpiled file by file (types
 * stripped, nothing checked) into a temp folder laid out like the checkout
 * (package.json, c/, node_modules), so `node <root>/src/cli.js` is the CLI and
 * `node <root>/src/index.js` the Action. World-readable, so `setpriv
 * --reuid=nobody` can run it. The one way tests run the sources in a subprocess.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface SourceFaces {
  root: string
  cli: string
  action: string
  remove(): void
}

export function transpileFaces(): SourceFaces {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-from-source-'))
  copyTree(path.join(REPO, 'src'), path.join(root, 'src'))
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'))
  fs.chmodSync(path.join(root, 'package.json'), 0o644)
  fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules')), path.join(root, 'node_modules'))
  fs.symlinkSync(path.join(REPO, 'c'), path.join(root, 'c'))
  fs.chmodSync(root, 0o755)
  return {
    root,
    cli: path.join(root, 'src/cli.js'),
    action: path.join(root, 'src/index.js'),
    remove: () => fs.rmSync(root, { recursive: true, force: true })
  }
}

function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 })
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    if (entry.isDirectory()) copyTree(source, path.join(to, entry.name))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        fileName: source
      })
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), outputText, { mode: 0o644 })
    } else {
      fs.copyFileSync(source, path.join(to, entry.name))
      fs.chmodSync(path.join(to, entry.name), 0o644)
    }
  }
}
