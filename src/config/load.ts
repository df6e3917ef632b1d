import * as path from 'node:path'
import { showKey, showValue } from '../display.js'
import { FledgeError, FledgeErrors } from '../errors.js'
import { KNOWN_KEYS, unknownKeyFix } from './hints.js'
import type { KeyPosition } from './locate.js'
import { parseTomlBytes, positionOf, readTomlFile, type Table, type TomlDocument } from './toml.js'
import {
  AGENT_REPOSITORY,
  DEFAULT_BUSYBOX_SHA256,
  DEFAULT_BUSYBOX_URL,
  type AgentSource,
  type BuildConfig,
  type ContainerSource,
  type InitMode,
  type Mapping
} from './types.js'

const SHA256_HEX = /^[0-9a-f]{64}$/i

export async function loadConfig(file: string): Promise<BuildConfig> {
  const document = readTomlFile(file, {
    what: 'config file',
    fixes: { ENOENT: 'pass the path of your fledge.toml with -c/--config (input `config`).' },
    syntaxFix: SYNTAX_FIX
  })
  return new ConfigReader(document).read()
}

const SYNTAX_FIX = 'correct the TOML syntax at that position (see https://toml.io/en/v1.0.0).'

/** Parses and validates a fledge.toml; reports every problem at once. */
export function parseConfig(bytes: Uint8Array, file: string): BuildConfig {
  return new ConfigReader(parseTomlBytes(bytes, file, SYNTAX_FIX)).read()
}

class ConfigReader {
  private readonly errors: FledgeError[] = []
  private readonly dir: string
  private readonly doc: Table
  private readonly file: string
  private readonly positions: Map<string, KeyPosition>

  constructor(document: TomlDocument) {
    this.doc = document.table
    this.file = document.file
    this.positions = document.positions
    this.dir = path.dirname(path.resolve(document.file))
  }

  read(): BuildConfig {
    this.checkUnknownKeys()
    this.checkVersion()
    this.checkStrategy()
    const init = this.readInit()
    const agent = init?.mode === 'default' ? this.readAgent() : this.forbidAgent(init)
    const busybox = this.readBusybox()
    const container = this.readContainer()
    const mappings = this.readMappings()
    if (this.errors.length === 1) throw this.errors[0]
    if (this.errors.length > 1) throw new FledgeErrors(this.errors)
    const config: BuildConfig = {
      file: path.resolve(this.file),
      dir: this.dir,
      init: init as InitMode,
      busybox,
      mappings,
      positions: this.positions
    }
    if (agent) config.agent = agent
    if (container) config.container = container
    return config
  }

  /** `key` as shown in messages (see showKey). */
  private fail(key: string, message: string, fix?: string) {
    const at = positionOf(this.positions, key)
    this.errors.push(
      new FledgeError(message, { file: this.file, line: at?.line, column: at?.column, key, fix })
    )
  }

  private table(name: string): Table | undefined {
    const value = this.doc[name]
    if (value === undefined) return undefined
    if (!isTable(value)) {
      this.fail(name, `must be a table, not ${describe(value)}.`, `write it as a [${name}] section.`)
      return undefined
    }
    return value
  }

  private checkUnknownKeys() {
    for (const [table, known] of KNOWN_KEYS) {
      const values = table === '' ? this.doc : this.doc[table]
      if (!isTable(values)) continue
      for (const key of Object.keys(values)) {
        if (known.includes(key)) continue
        const full = showKey(table === '' ? [key] : [table, key])
        this.fail(full, 'unknown key.', unknownKeyFix(table, key))
      }
    }
    if (this.doc['filesystem'] !== undefined) {
      this.fail(
        'filesystem',
        '[filesystem] configures oci_rootfs disk images, which this builder does not make.',
        'remove the [filesystem] table; initramfs images need none of it.'
      )
    }
  }

  private checkVersion() {
    const version = this.doc['version']
    if (version === undefined) {
      this.fail('version', "'version' field is required.", 'add version = "1" at the top of the file.')
    } else if (version !== '1') {
      this.fail(
        'version',
        `unsupported config version ${showValue(version)}.`,
        'set version = "1" (a string).'
      )
    }
  }

  private checkStrategy() {
    const strategy = this.doc['strategy']
    if (strategy === 'initramfs') return
    if (strategy === 'oci_rootfs') {
      this.fail(
        'strategy',
        'oci_rootfs builds a disk image from a container image; fledge-action builds initramfs images.',
        'use strategy = "initramfs", or build oci_rootfs plugins with fledge itself.'
      )
    } else {
      this.fail(
        'strategy',
        strategy === undefined
          ? "'strategy' field is required."
          : `unknown strategy ${showValue(strategy)}; allowed values: "initramfs", "oci_rootfs".`,
        'set strategy = "initramfs".'
      )
    }
  }

  private readInit(): InitMode | undefined {
    const init = this.table('init')
    if (!init) return { mode: 'default' }
    const { none, path: initPath } = init
    if (none !== undefined && typeof none !== 'boolean') {
      this.fail('init.none', `must be true or false, not ${describe(none)}.`, 'write none = true.')
      return undefined
    }
    if (initPath !== undefined && (typeof initPath !== 'string' || initPath === '')) {
      this.fail('init.path', 'must be a non-empty string.', 'write path = "./my-init".')
      return undefined
    }
    if (none === true && initPath !== undefined) {
      this.fail(
        'init',
        "'none' and 'path' cannot be used together.",
        'keep path = "..." for a custom init, or none = true when your own /init is mapped.'
      )
      return undefined
    }
    if (none === true) return { mode: 'none' }
    if (typeof initPath === 'string') return { mode: 'custom', path: initPath }
    return { mode: 'default' }
  }

  private forbidAgent(init: InitMode | undefined): undefined {
    if (init && this.doc['agent'] !== undefined) {
      this.fail(
        'agent',
        `[agent] is not allowed in ${init.mode} init mode: the agent only runs under the default init.`,
        init.mode === 'custom'
          ? 'remove [agent], or remove [init] path to use the default init with the agent.'
          : 'remove [agent], or remove [init] none to use the default init with the agent.'
      )
    }
    return undefined
  }

  private readAgent(): AgentSource | undefined {
    const agent = this.table('agent')
    if (!agent) {
      if (this.doc['agent'] !== undefined) return undefined
      return { strategy: 'release', version: 'latest', repository: AGENT_REPOSITORY }
    }
    const strategy = agent['source_strategy']
    const field = (name: string, example: string): string | undefined => {
      const value = agent[name]
      if (typeof value === 'string' && value !== '') return value
      this.fail(
        `agent.${name}`,
        value === undefined
          ? `source_strategy ${showValue(strategy)} requires '${name}'.`
          : `must be a non-empty string, not ${describe(value)}.`,
        `add ${name} = ${example} to [agent].`
      )
      return undefined
    }
    switch (strategy) {
      case 'release': {
        const version = field('version', '"latest" (or a tag such as "v0.6.0")')
        return version === undefined
          ? undefined
          : { strategy: 'release', version, repository: AGENT_REPOSITORY }
      }
      case 'local': {
        const agentPath = field('path', '"./kestrel"')
        return agentPath === undefined
          ? undefined
          : { strategy: 'local', path: path.resolve(this.dir, agentPath) }
      }
      case 'http': {
        const url = field('url', '"https://…/kestrel"')
        if (url === undefined) return undefined
        const checksum = agent['checksum']
        if (checksum === undefined) return { strategy: 'http', url }
        const hex = typeof checksum === 'string' ? checksum.replace(/^sha256:/i, '') : ''
        if (!SHA256_HEX.test(hex)) {
          this.fail(
            'agent.checksum',
            `not a sha256 checksum: ${showValue(checksum)}.`,
            'write checksum = "sha256:<64 hex digits>" (or the bare 64 hex digits).'
          )
          return undefined
        }
        return { strategy: 'http', url, sha256: hex.toLowerCase() }
      }
      case undefined:
        this.fail(
          'agent.source_strategy',
          "'source_strategy' is required in [agent].",
          'add source_strategy = "release" (or "local" / "http").'
        )
        return undefined
      default:
        this.fail(
          'agent.source_strategy',
          `unknown source_strategy ${showValue(strategy)}; allowed: "release", "local", "http".`,
          'use source_strategy = "release", "local" or "http".'
        )
        return undefined
    }
  }

  private readBusybox(): BuildConfig['busybox'] {
    const source = this.table('source') ?? {}
    const url = source['busybox_url']
    const sha = source['busybox_sha256']
    if (url !== undefined && typeof url !== 'string') {
      this.fail('source.busybox_url', `must be a string, not ${describe(url)}.`)
    }
    let sha256: string | undefined
    if (sha !== undefined && sha !== '') {
      const hex = typeof sha === 'string' ? sha.replace(/^sha256:/i, '') : ''
      if (SHA256_HEX.test(hex)) sha256 = hex.toLowerCase()
      else {
        this.fail(
          'source.busybox_sha256',
          `not a sha256 checksum: ${showValue(sha)}.`,
          'write busybox_sha256 = "<64 hex digits>", as printed by `sha256sum busybox`.'
        )
      }
    }
    // fledge defaults the sha256 even for a custom URL (and then fails to verify);
    // we default it only together with the default URL.
    if (typeof url !== 'string' || url === '' || url === DEFAULT_BUSYBOX_URL) {
      return { url: DEFAULT_BUSYBOX_URL, sha256: sha256 ?? DEFAULT_BUSYBOX_SHA256, pinned: true }
    }
    return sha256 ? { url, sha256, pinned: true } : { url, pinned: false }
  }

  /** `image`, or `dockerfile` with its `context`, `target` and `build_args`; never both. */
  private readContainer(): ContainerSource | undefined {
    const source = this.table('source') ?? {}
    const { image, dockerfile, context, target } = source
    const buildArgs = source['build_args']
    const text = (key: string, value: unknown, example: string): string | undefined => {
      if (value === undefined) return undefined
      if (typeof value === 'string' && value.trim() !== '') return value
      this.fail(`source.${key}`, `must be a non-empty string, not ${describe(value)}.`, `write ${key} = ${example}.`)
      return undefined
    }
    const reference = text('image', image, '"alpine:3.20" (or "oci-layout:./layout", "docker-archive:app.tar")')
    const file = text('dockerfile', dockerfile, '"Dockerfile"')
    const contextDir = text('context', context, '"."')
    const stage = text('target', target, '"runtime"')
    if (image !== undefined && dockerfile !== undefined) {
      this.fail(
        'source.dockerfile',
        "'image' and 'dockerfile' are both set; the image's filesystem comes from one of them.",
        'keep image = "…" to use a built image, or dockerfile = "…" to build one.'
      )
      return undefined
    }
    if (dockerfile === undefined) {
      for (const [key, value] of [['context', context], ['target', target], ['build_args', buildArgs]] as const) {
        if (value === undefined) continue
        this.fail(`source.${key}`, `'${key}' only applies to a Dockerfile build, and no 'dockerfile' is set.`, image === undefined ? 'add dockerfile = "Dockerfile", or remove it.' : 'remove it: image = "…" names an image that is already built.')
      }
    }
    const args: Record<string, string> = {}
    if (buildArgs !== undefined) {
      if (!isTable(buildArgs)) {
        this.fail('source.build_args', `must be a table of strings, not ${describe(buildArgs)}.`, 'write build_args = { VERSION = "1.2.3" }.')
      } else {
        for (const [key, value] of Object.entries(buildArgs)) {
          if (typeof value === 'string') args[key] = value
          else this.fail(showKey(['source', 'build_args', key]), `must be a string, not ${describe(value)}.`, `write ${showKey([key])} = "${String(value)}".`)
        }
      }
    }
    if (reference !== undefined) return { kind: 'image', reference: reference.trim() }
    if (file === undefined) return undefined
    const container: ContainerSource = {
      kind: 'dockerfile',
      dockerfile: path.resolve(this.dir, file),
      context: path.resolve(this.dir, contextDir ?? '.'),
      buildArgs: args
    }
    if (stage !== undefined) container.target = stage
    return container
  }

  private readMappings(): Mapping[] {
    const table = this.table('mappings')
    if (!table) return []
    const mappings: Mapping[] = []
    for (const [source, destination] of Object.entries(table)) {
      const key = showKey(['mappings', source])
      const position = positionOf(this.positions, key)
      const fail = (message: string, fix: string) => {
        this.errors.push(
          new FledgeError(message, {
            file: this.file,
            line: position?.line,
            column: position?.column,
            key,
            fix
          })
        )
      }
      if (source.trim() === '') {
        fail('mapping source is empty.', 'write "path/on/host" = "/path/in/image".')
        continue
      }
      if (typeof destination !== 'string' || destination === '') {
        fail(
          `destination must be a non-empty string, not ${describe(destination)}.`,
          'write "path/on/host" = "/path/in/image".'
        )
        continue
      }
      if (!destination.startsWith('/')) {
        fail(
          `destination ${showValue(destination)} is not absolute.`,
          `start it with '/', e.g. ${showValue(`/${destination.replace(/^\.?\/*/, '')}`)}.`
        )
        continue
      }
      if (destination.split('/').includes('..')) {
        fail(
          `destination ${showValue(destination)} contains '..'.`,
          'write the final absolute path inside the image without .. segments.'
        )
        continue
      }
      const normalized = path.posix.normalize(destination).replace(/\/+$/, '')
      if (normalized === '') {
        fail('a mapping cannot replace the image root "/".', 'map into a folder such as "/opt/app".')
        continue
      }
      const mapping: Mapping = {
        source,
        sourcePath: path.resolve(this.dir, source),
        destination: normalized
      }
      if (position) mapping.position = position
      mappings.push(mapping)
    }
    return mappings
  }
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (isTable(value)) return 'a table'
  return `${typeof value} ${showValue(value)}`
}
