/**
 * The real Volant parts the tests use, as scripts/setup.sh leaves them: kestrel built from
 * volant's source at the pinned commit (with its internal/pluginspec beside it), the Volant-like
 * test kernel, and a Go program that checks a manifest with volant's own pluginspec. A missing
 * part fails the test with the set-up hint; nothing here builds a kernel or downloads.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { goBuild } from './go.js'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SETUP_HINT = 'run scripts/setup.sh (it builds kestrel and the test kernel once, cached)'

function cachedPaths(script: string): Record<string, string> {
  let out: string
  try {
    out = execFileSync('bash', [path.join(REPO, 'scripts', script), '--cached'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    })
  } catch (error) {
    const said = (error as { stderr?: string }).stderr?.trim() ?? String(error)
    throw new Error(`${script} --cached failed: ${said}. Fix: ${SETUP_HINT}`, { cause: error })
  }
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
}

export interface RealKestrel {
  /** The static kestrel binary (volant f289af92, BSL 1.1, tests only). */
  kestrel: string
  /** A folder holding volant's internal/pluginspec/spec.go. */
  pluginspec: string
}

export function realKestrel(): RealKestrel {
  const paths = cachedPaths('build-kestrel.sh')
  return { kestrel: paths['kestrel'] ?? '', pluginspec: paths['pluginspec'] ?? '' }
}

/** The small Volant-like kernel: IP_PNP and virtio-net built in, like Volant's ch_defconfig. */
export function volantTestKernel(): string {
  return cachedPaths('build-test-kernel.sh')['bzImage'] ?? ''
}

export interface ContractResult {
  /** Where volant's code refused the manifest, if it did. */
  failed_at?: 'decode' | 'validate' | 'stage'
  error?: string
  /** What volantd puts after volant.manifest=. */
  encoded?: string
}

export interface VolantContract {
  /** Decode, Normalize, Validate, Encode with volant's pluginspec; stage `image` for http(s) URLs. */
  check(manifestFile: string, image?: string): ContractResult
  dispose(): void
}

/** Builds __tests__/fixtures/volant-contract against volant's pluginspec. */
export function buildVolantContract(): VolantContract {
  const { pluginspec } = realKestrel()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'volant-contract-'))
  fs.mkdirSync(path.join(dir, 'pluginspec'))
  fs.copyFileSync(path.join(pluginspec, 'spec.go'), path.join(dir, 'pluginspec', 'spec.go'))
  fs.copyFileSync(
    path.join(REPO, '__tests__/fixtures/volant-contract/main.go'),
    path.join(dir, 'main.go')
  )
  fs.writeFileSync(path.join(dir, 'go.mod'), 'module contract\n\ngo 1.19\n')
  const binary = path.join(dir, 'contract')
  try {
    goBuild(dir, binary, 'the volant contract checker')
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    check(manifestFile, image) {
      const run = spawnSync(binary, image ? [manifestFile, image] : [manifestFile], {
        encoding: 'utf8'
      })
      if (run.status !== 0) throw new Error(`volant contract checker: ${run.stderr}`)
      return JSON.parse(run.stdout) as ContractResult
    },
    dispose() {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface BuiltExample {
  dir: string
  image: string
  sha256: string
  /** The generated manifest JSON file, when the example has a manifest.toml. */
  manifest?: string
}

/**
 * Builds a copy of examples/<name> (in `dir`) with the engine, the way a plugin author's release
 * would: an agent with source_strategy = "release" comes from a loopback GitHub that serves the
 * real kestrel as volantvm/volant's release asset.
 */
export async function buildExample(
  name: string,
  dir: string,
  apiUrl: string
): Promise<BuiltExample> {
  const { build } = await import('../../src/build.js')
  const { planFromTemplate, writePluginManifest } = await import('../../src/manifest/index.js')
  const { silentLogger } = await import('../../src/log.js')
  fs.cpSync(path.join(REPO, 'examples', name), dir, { recursive: true })
  const image = path.join(dir, 'plugin.cpio.gz')
  const result = await build({
    configPath: path.join(dir, 'fledge.toml'),
    outputPath: image,
    apiUrl,
    log: silentLogger
  })
  const plan = await planFromTemplate(path.join(dir, 'manifest.toml'), image)
  const written = await writePluginManifest(plan, { sha256: result.archive.sha256 }, silentLogger)
  return {
    dir,
    image,
    sha256: result.archive.sha256,
    ...(written ? { manifest: written.path } : {})
  }
}

/**
 * volantvm/volant's release as the loopback GitHub serves it: the real kestrel and, with
 * `kernel`, the Volant-like test kernel as `bzImage` with its `bzImage.sha256`, as Volant's
 * releases ship them.
 */
export function volantRelease(
  tag = 'v0.6.5',
  options: { kernel?: boolean } = {}
): { owner: string; repo: string; tag: string; assets: { name: string; data: Buffer }[] } {
  const assets = [{ name: 'kestrel', data: fs.readFileSync(realKestrel().kestrel) }]
  if (options.kernel) {
    const bzImage = fs.readFileSync(volantTestKernel())
    const sum = createHash('sha256').update(bzImage).digest('hex')
    assets.push(
      { name: 'bzImage', data: bzImage },
      { name: 'bzImage.sha256', data: Buffer.from(`${sum}  bzImage\n`) }
    )
  }
  return { owner: 'volantvm', repo: 'volant', tag, assets }
}
