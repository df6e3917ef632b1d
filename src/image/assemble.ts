import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BuildConfig } from '../config/types.js'
import { showPath, showValue } from '../display.js'
import { FledgeError } from '../errors.js'
import { ImageBuilder, type Replacement } from './builder.js'
import type { Entry } from './entry.js'
import {
  AGENT_PATH,
  BUSYBOX_APPLETS,
  BUSYBOX_PATH,
  CUSTOM_INIT_POINTER,
  DEVICE_NODES,
  FHS_DIRS,
  INIT_PATH
} from './layout.js'
import { addMapping } from './mappings.js'
import { DIR_MODE, EXEC_MODE } from './modes.js'
import { validateImage } from './validate.js'

export interface LocalFile {
  path: string
  size: number
}

/**
 * How PID 1 is provided. Custom mode has two readings (fledge-compat.md):
 * a host file copied to /init, or a path inside the image that our C init execs.
 */
export type InitPlan =
  | { kind: 'c-init'; exec: 'agent' }
  | { kind: 'c-init'; exec: 'custom'; imagePath: string }
  | { kind: 'host-file'; hostPath: string; size: number }
  | { kind: 'none' }

export async function planInit(config: BuildConfig): Promise<InitPlan> {
  const init = config.init
  if (init.mode === 'default') return { kind: 'c-init', exec: 'agent' }
  if (init.mode === 'none') return { kind: 'none' }
  // On a container image an absolute path means the image's program, even if the host has one there too.
  if (config.container !== undefined && init.path.startsWith('/')) {
    return { kind: 'c-init', exec: 'custom', imagePath: path.posix.normalize(init.path) }
  }
  const hostPath = path.resolve(config.dir, init.path)
  const stat = await fs.stat(hostPath).catch(() => undefined)
  if (stat?.isFile()) return { kind: 'host-file', hostPath, size: stat.size }
  const inImage = path.posix.normalize(init.path)
  if (init.path.startsWith('/') && providedByMapping(config, inImage)) {
    return { kind: 'c-init', exec: 'custom', imagePath: inImage }
  }
  const at = config.positions.get('init.path')
  throw new FledgeError(
    `init path ${showValue(init.path)} is neither a file next to fledge.toml (${showPath(hostPath)}) nor an absolute path that a mapping puts into the image.`,
    {
      file: config.file,
      line: at?.line,
      column: at?.column,
      key: 'init.path',
      fix: 'point it at your init program on the host (copied to /init), or at its absolute path inside the image and add a [mappings] entry that provides it.'
    }
  )
}

function providedByMapping(config: BuildConfig, imagePath: string): boolean {
  return config.mappings.some(
    (m) => m.destination === imagePath || imagePath.startsWith(`${m.destination}/`)
  )
}

export interface ImageInputs {
  busybox: LocalFile
  /** Our compiled C init; required when the plan is 'c-init'. */
  cInit?: LocalFile
  /** Default mode only. */
  agent?: LocalFile
  /** `[source] image`: the container image's filesystem, laid down first. */
  image?: readonly Entry[]
}

export interface AssembledImage {
  entries: Entry[]
  replacements: Replacement[]
  warnings: string[]
}

export async function assembleImage(
  config: BuildConfig,
  plan: InitPlan,
  inputs: ImageInputs
): Promise<AssembledImage> {
  const builder = new ImageBuilder()
  const warnings: string[] = []
  if (inputs.image) builder.addImage(inputs.image)
  for (const dir of FHS_DIRS) builder.addGenerated(dir, { type: 'dir', mode: DIR_MODE, origin: 'base layout' })
  for (const node of DEVICE_NODES) {
    builder.addGenerated(node.path, {
      type: 'char',
      mode: node.mode,
      rdev: { major: node.major, minor: node.minor },
      origin: 'device node'
    })
  }
  builder.addGenerated(BUSYBOX_PATH, {
    type: 'file',
    mode: EXEC_MODE,
    source: { kind: 'path', ...inputs.busybox },
    origin: 'busybox'
  })
  for (const applet of BUSYBOX_APPLETS) {
    builder.addGenerated(`/bin/${applet}`, {
      type: 'symlink',
      mode: 0o777,
      target: 'busybox',
      origin: 'busybox applet'
    })
  }
  addInit(builder, plan, inputs)
  if (inputs.agent) {
    builder.addGenerated(AGENT_PATH, {
      type: 'file',
      mode: EXEC_MODE,
      source: { kind: 'path', ...inputs.agent },
      origin: 'agent (kestrel)'
    })
  }
  for (const mapping of config.mappings) {
    await addMapping(builder, mapping, config.file, (w) => warnings.push(w))
  }
  const entries = builder.sorted()
  validateImage(entries, config, plan)
  return { entries, replacements: builder.replacements, warnings }
}

function addInit(builder: ImageBuilder, plan: InitPlan, inputs: ImageInputs): void {
  if (plan.kind === 'none') return
  if (plan.kind === 'host-file') {
    builder.addGenerated(INIT_PATH, {
      type: 'file',
      mode: EXEC_MODE,
      source: { kind: 'path', path: plan.hostPath, size: plan.size },
      origin: 'init.path'
    })
    return
  }
  if (!inputs.cInit) throw new Error('internal: the C init was not compiled')
  builder.addGenerated(INIT_PATH, {
    type: 'file',
    mode: EXEC_MODE,
    source: { kind: 'path', ...inputs.cInit },
    origin: 'C init'
  })
  if (plan.exec === 'custom') {
    builder.addGenerated(CUSTOM_INIT_POINTER, {
      type: 'file',
      mode: 0o644,
      source: { kind: 'bytes', data: Buffer.from(`${plan.imagePath}\n`) },
      origin: 'init.path'
    })
  }
}
