import { parseTomlBytes, positionOf, readTomlFile, type TomlDocument } from '../config/toml.js'
import { showPath, showValue } from '../display.js'
import { FledgeError, FledgeErrors } from '../errors.js'
import { silentLogger, type Logger } from '../log.js'
import { normalizeChecksum } from './checksum.js'
import { checkCommandLine } from './cmdline-check.js'
import { MANIFEST_SCHEMA_ID } from './schema.js'
import { TomlReader, type Table } from './toml-reader.js'
import type { ImageConfigSummary } from '../container/types.js'
import {
  AGENT_GUEST_PORT,
  AGENT_PORT_CLASH,
  validateManifest,
  workloadPort,
  type ManifestProblem
} from './validate.js'

export interface ArtifactRef {
  /** where volantd gets plugin.cpio.gz: an https://… URL or an absolute path (never file://) */
  url: string
  /** `sha256:<hex>` or bare hex */
  checksum: string
}

/**
 * The container image's config (`[source] image`): what manifest.toml leaves out of
 * [workload] is taken from it, with a note saying how to write it. 'pending': the
 * image is not pulled yet (the pre-build check), so a missing entrypoint is not an error.
 */
export type ImageDefaults = ImageConfigSummary | 'pending'

export interface GeneratedManifest {
  /** 2-space indented, trailing newline, keys in schema order */
  json: string
  manifest: Record<string, unknown>
}

const TOP_LEVEL_KEYS = [
  'schema_version',
  'name',
  'version',
  'runtime',
  'enabled',
  'resources',
  'workload',
  'env',
  'health_check',
  'network',
  'actions',
  'cloud_init',
  'devices',
  'labels'
]

/**
 * The plugin manifest for an artifact, from fledge's `manifest.toml`
 * template (its keys and defaults), converted to what volantd accepts.
 * Throws a FledgeError for everything the author must fix, all at once;
 * never returns a manifest that fails `validateManifest`.
 */
export function generateManifest(
  manifestTomlPath: string,
  artifact: ArtifactRef,
  logger: Logger = silentLogger,
  image?: ImageDefaults
): GeneratedManifest {
  const document = readTomlFile(manifestTomlPath, {
    what: 'manifest template',
    messages: {
      ENOENT: `cannot read the manifest template ${showPath(manifestTomlPath)}: it does not exist.`
    },
    fixes: {
      ENOENT:
        'check the manifest template path (fledge reads manifest.toml next to fledge.toml by default).'
    },
    syntaxFix: SYNTAX_FIX
  })
  return generateFromDocument(document, artifact, logger, image)
}

const SYNTAX_FIX = 'correct the TOML syntax at that position.'

export function generateManifestFromToml(
  text: string,
  file: string,
  artifact: ArtifactRef,
  logger: Logger = silentLogger
): GeneratedManifest {
  return generateFromDocument(parseTomlBytes(text, file, SYNTAX_FIX), artifact, logger)
}

function generateFromDocument(
  document: TomlDocument,
  artifact: ArtifactRef,
  logger: Logger,
  image?: ImageDefaults
): GeneratedManifest {
  const { file, table: template } = document
  const reader = new TomlReader(document, TOP_LEVEL_KEYS)
  const notes: string[] = []
  const manifest = convert(template, reader, artifact, { image, notes })
  throwAll(reader.errors)
  for (const note of notes) logger.info(`${file}: ${note}`)
  const envTable = template['env'] === undefined ? 'workload.env' : 'env'
  throwAll(validateManifest(manifest).map((problem) => consumerError(problem, document, envTable)))
  const json = `${JSON.stringify(manifest, null, 2)}\n`
  if (isExposing(template)) {
    logger.warn(
      'network.expose is checked but not written: volant has no such key (its decoder would ignore it), so ports reach the guest only through the workload itself.',
      { file }
    )
  }
  const overflow = checkCommandLine(json)
  if (overflow) logger.warn(overflow, { file })
  return { json, manifest }
}

function isExposing(template: Table): boolean {
  const network = template['network']
  return typeof network === 'object' && network !== null && 'expose' in network
}

interface Defaults {
  image: ImageDefaults | undefined
  notes: string[]
}

function convert(
  template: Table,
  reader: TomlReader,
  artifact: ArtifactRef,
  defaults: Defaults
): Record<string, unknown> {
  reader.onlyKeys(template, TOP_LEVEL_KEYS, '')
  const name = reader.requiredString(template, 'name', '', 'add name = "<plugin name>" at the top.')
  const { network, firstTcpPort } = readNetwork(template, reader)
  return withoutUndefined({
    $schema: MANIFEST_SCHEMA_ID,
    schema_version: reader.string(template, 'schema_version', '') ?? 'v1',
    name,
    version: reader.requiredString(template, 'version', '', 'add version = "0.1.0" at the top.'),
    runtime: reader.requiredString(
      template,
      'runtime',
      '',
      `add runtime = "${name ?? '<runtime>'}" at the top.`
    ),
    // Every seed manifest says true, and if volantd's field is a plain Go
    // bool an absent `enabled` installs a disabled plugin.
    enabled: reader.boolean(template, 'enabled', '') ?? true,
    initramfs: { url: artifact.url, checksum: normalizeChecksum(artifact.checksum) },
    resources: readResources(template, reader),
    workload: readWorkload(template, reader, firstTcpPort, defaults),
    health_check: readHealthCheck(template, reader),
    network,
    actions: reader.table(template, 'actions', ''),
    cloud_init: reader.table(template, 'cloud_init', ''),
    devices: reader.table(template, 'devices', ''),
    labels: reader.stringMap(template, 'labels', '')
  })
}

function readResources(template: Table, reader: TomlReader): Table {
  const table = reader.table(template, 'resources', '') ?? {}
  reader.onlyKeys(table, ['cpu_cores', 'memory_mb'], 'resources')
  return {
    cpu_cores: reader.integer(table, 'cpu_cores', 'resources', 1) ?? 1,
    // fledge's floor; the consumer itself accepts anything ≥ 1
    memory_mb: reader.integer(table, 'memory_mb', 'resources', 128) ?? 256
  }
}

function readWorkload(template: Table, reader: TomlReader, port: number | undefined, defaults: Defaults): Table {
  const table = reader.table(template, 'workload', '') ?? {}
  reader.onlyKeys(table, ['type', 'entrypoint', 'args', 'base_url', 'workdir', 'env'], 'workload')
  // 8080 is kestrel's port in the guest: never suggest it, even when [[network.expose]] says so.
  const example = `http://127.0.0.1:${port !== undefined && port !== AGENT_GUEST_PORT ? port : 80}`
  const baseUrlFix = `add base_url = "${example}" under [workload]: the address the workload serves HTTP on inside the VM (fledge did not need it; volantd does).`
  const baseUrl = reader.requiredString(table, 'base_url', 'workload', baseUrlFix)
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]/.test(baseUrl)) {
    reader.fail('workload.base_url', `${showValue(baseUrl)} is not an http:// or https:// URL.`, baseUrlFix)
  } else if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    reader.fail('workload.base_url', `${showValue(baseUrl)} is not a valid URL.`, baseUrlFix)
  } else if (baseUrl !== undefined && workloadPort(baseUrl) === AGENT_GUEST_PORT) {
    reader.fail(
      'workload.base_url',
      `${showValue(baseUrl)} ${AGENT_PORT_CLASH.replace(/ \(.*\)$/, '')}.`,
      `listen the workload on another port (e.g. 80) and set base_url = "${baseUrl.replace(':8080', ':80')}".`
    )
  }
  const image = defaults.image
  const config = image === 'pending' ? undefined : image
  const toml = (value: unknown) => JSON.stringify(value)
  let entrypoint: string[] | undefined
  if (table['entrypoint'] === undefined && image !== undefined) {
    const command = [...(config?.entrypoint ?? []), ...(config?.cmd ?? [])]
    if (image === 'pending') entrypoint = ['/image-entrypoint']
    else if (command.length > 0 && (command[0] ?? '').trim() !== '') {
      entrypoint = command
      defaults.notes.push(`workload.entrypoint is taken from the container image's Entrypoint and Cmd: ${toml(command)}. To say so in manifest.toml: entrypoint = ${toml(command[0])}${command.length > 1 ? `, args = ${toml(command.slice(1))}` : ''} under [workload].`)
    } else {
      reader.fail('workload.entrypoint', 'is required, and the container image sets no Entrypoint or Cmd to take it from.', 'add entrypoint = "/usr/bin/<program>" under [workload], and args = ["…"] for its arguments.')
    }
  } else {
    entrypoint = readEntrypoint(table, reader)
  }
  let env = readEnv(template, table, reader)
  if (env === undefined && config && config.env.length > 0) {
    const fromImage: Record<string, string> = Object.fromEntries(
      config.env.map((item) => [item.split('=')[0] as string, item.slice(item.indexOf('=') + 1)]).filter(([key]) => key !== '')
    )
    env = fromImage
    defaults.notes.push(`workload env is taken from the container image's Env (${Object.keys(fromImage).join(', ')}); write an [env] table to choose it yourself.`)
  }
  let workdir = reader.string(table, 'workdir', 'workload')
  if (workdir === undefined && table['workdir'] === undefined && config?.workingDir) {
    workdir = config.workingDir
    defaults.notes.push(`workload.workdir is taken from the container image's WorkingDir: workdir = ${toml(workdir)} under [workload] says so.`)
  }
  if (config?.user && !/^(0|root)(:(0|root))?$/.test(config.user)) {
    defaults.notes.push(`the container image sets User ${toml(config.user)}; the Volant manifest has no user, so the workload starts as the agent's user (root): drop privileges in the entrypoint if it must run as that user.`)
  }
  return withoutUndefined({
    type: reader.oneOf(table, 'type', 'workload', ['http']) ?? 'http',
    base_url: baseUrl,
    entrypoint,
    env,
    workdir
  })
}

/** fledge writes `entrypoint = "/bin/app"` plus `args = [...]`; volantd wants one list. */
function readEntrypoint(table: Table, reader: TomlReader): string[] | undefined {
  const fix =
    'add entrypoint = "/usr/bin/<program>" under [workload], and args = ["…"] for its arguments.'
  const raw = table['entrypoint']
  if (raw === undefined) return reader.fail('workload.entrypoint', 'is required.', fix)
  const args = reader.stringList(table, 'args', 'workload') ?? []
  let program: string[]
  if (typeof raw === 'string') program = [raw]
  else if (Array.isArray(raw) && raw.every((item) => typeof item === 'string'))
    program = raw as string[]
  else return reader.fail('workload.entrypoint', 'must be a string or a list of strings.', fix)
  const command = [...program, ...args]
  if ((command[0] ?? '').trim() === '') {
    return reader.fail('workload.entrypoint', 'must name the program to run; it is empty.', fix)
  }
  return command
}

function readEnv(
  template: Table,
  workload: Table,
  reader: TomlReader
): Record<string, string> | undefined {
  const topLevel = reader.stringMap(template, 'env', '')
  const nested = reader.stringMap(workload, 'env', 'workload')
  if (topLevel && nested) {
    reader.fail(
      'env',
      'the environment is given twice, as [env] and as [workload.env].',
      'keep one of the two tables.'
    )
  }
  return topLevel ?? nested
}

function readHealthCheck(template: Table, reader: TomlReader): Table | undefined {
  const table = reader.table(template, 'health_check', '')
  if (!table) return undefined
  reader.onlyKeys(table, ['endpoint', 'timeout_ms'], 'health_check')
  const endpoint = reader.requiredString(
    table,
    'endpoint',
    'health_check',
    'add endpoint = "/" under [health_check]: the path volantd polls until it answers 200.'
  )
  const timeout = reader.integer(table, 'timeout_ms', 'health_check', 0)
  if (table['timeout_ms'] === undefined) {
    reader.fail(
      'health_check.timeout_ms',
      'is required.',
      'add timeout_ms = 10000 under [health_check].'
    )
  }
  return { endpoint, timeout_ms: timeout }
}

/**
 * `[[network.expose]]` is validated as fledge does (port 1–65535, tcp/udp)
 * but not written: the consumer's network object is closed and has no
 * `expose`, so volantd's schema would reject the whole manifest. Its first
 * tcp port only serves as the example in a missing base_url's fix.
 */
function readNetwork(
  template: Table,
  reader: TomlReader
): { network: Table; firstTcpPort: number | undefined } {
  const table = reader.table(template, 'network', '') ?? {}
  reader.onlyKeys(table, ['mode', 'subnet', 'gateway', 'auto_assign', 'expose'], 'network')
  let firstTcpPort: number | undefined
  for (const [index, entry] of (reader.tableList(table, 'expose', 'network') ?? []).entries()) {
    const prefix = `network.expose[${index}]`
    reader.onlyKeys(entry, ['port', 'protocol'], prefix)
    const port = reader.integer(entry, 'port', prefix, 1, 65535)
    if (entry['port'] === undefined)
      reader.fail(`${prefix}.port`, 'is required.', 'add port = 8080 to this [[network.expose]].')
    const protocol = reader.oneOf(entry, 'protocol', prefix, ['tcp', 'udp']) ?? 'tcp'
    if (protocol === 'tcp') firstTcpPort ??= port
  }
  const network = withoutUndefined({
    mode: reader.oneOf(table, 'mode', 'network', ['vsock', 'bridged', 'dhcp']) ?? 'bridged',
    subnet: reader.string(table, 'subnet', 'network'),
    gateway: reader.string(table, 'gateway', 'network'),
    auto_assign: reader.boolean(table, 'auto_assign', 'network')
  })
  return { network, firstTcpPort }
}

/** A problem the consumer's rules found that the template checks above let through. */
function consumerError(
  problem: ManifestProblem,
  document: TomlDocument,
  envTable: string
): FledgeError {
  const file = document.file
  const key = problem.path
    .replace(/^\$\.?/, '')
    .replace(/\["((?:[^"\\]|\\.)*)"\]/g, '."$1"')
    .replace(/^workload\.env\b/, envTable)
  if (key.startsWith('initramfs')) {
    return new FledgeError(`the artifact ${key.replace('initramfs.', '')} ${problem.message}.`, {
      key,
      fix: 'pass the artifact URL as https://… or an absolute path.'
    })
  }
  const at = key ? positionOf(document.positions, key) : undefined
  return new FledgeError(`${problem.message}.`, {
    file,
    line: at?.line,
    column: at?.column,
    key: key || undefined,
    fix: key.startsWith('actions.')
      ? 'each [actions.<name>] needs method = "POST" and path = "/…"; description and timeout_ms are optional.'
      : 'see the Volant plugin manifest reference for this field.'
  })
}

function throwAll(errors: readonly FledgeError[]): void {
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new FledgeErrors([...errors])
}

function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined))
}
