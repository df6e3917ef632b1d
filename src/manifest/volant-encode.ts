/**
 * What volantd puts after `volant.manifest=` on the guest's kernel command line, byte for byte:
 * it decodes the manifest into its Go struct (internal/pluginspec), calls Normalize(), then
 * `json.Marshal` → compress/gzip (default level) → base64url without padding. So the author's key
 * order, indentation and unknown keys never reach the guest, and Normalize's defaults
 * (runtime = name, rootfs.format "raw", volant.* labels) always do.
 *
 * The field order and `omitempty` rules below are those of pluginspec.Manifest at volant
 * f289af92 (the commit the tests build kestrel from); the consumer contract test compares
 * this encoder with volant's own pluginspec.Encode for every manifest the project writes.
 */
import { goGzip } from './go-gzip.js'

type Json = unknown
type Fields = Record<string, Json>

/** One Go struct field: JSON name, how to write it, and whether `omitempty` drops its zero value. */
interface Field {
  name: string
  write: (value: Json) => string | undefined
  omitEmpty?: boolean
  /** A Go map: omitempty drops it when it has no keys. */
  map?: boolean
  /** The fields of a struct value (or of each value of a map or item of a list of structs). */
  children?: Field[]
  /** How `children` apply: one struct, each value of a map, each item of a list. */
  holds?: 'struct' | 'map' | 'list'
}

export function encodeVolantManifest(manifestJson: string): string {
  const value: Json = JSON.parse(manifestJson.replace(/^\uFEFF/, ''))
  const marshalled = marshalManifest(normalizeManifest(decodeLikeGo(value).manifest))
  return goGzip(Buffer.from(marshalled, 'utf8')).toString('base64url')
}

/** pluginspec.Manifest.Normalize(), on decoded JSON (unknown keys are dropped by marshalManifest). */
export function normalizeManifest(input: Fields): Fields {
  const m: Fields = { ...input }
  for (const key of [
    'schema_version',
    'name',
    'version',
    'runtime',
    'image',
    'image_digest',
    'openapi'
  ]) {
    m[key] = trim(m[key])
  }
  if (m['runtime'] === '') m['runtime'] = m['name']
  const rootfs = { ...asFields(m['rootfs']) }
  rootfs['url'] = trim(rootfs['url'])
  rootfs['checksum'] = trim(rootfs['checksum'])
  rootfs['format'] = lowerTrim(rootfs['format']) || 'raw'
  m['rootfs'] = rootfs
  const initramfs = { ...asFields(m['initramfs']) }
  initramfs['url'] = trim(initramfs['url'])
  initramfs['checksum'] = trim(initramfs['checksum'])
  m['initramfs'] = initramfs
  if (Array.isArray(m['disks'])) {
    m['disks'] = m['disks'].map((disk) => {
      const d = { ...asFields(disk) }
      d['name'] = trim(d['name'])
      d['source'] = trim(d['source'])
      d['format'] = lowerTrim(d['format'])
      d['target'] = trim(d['target'])
      return d
    })
  }
  const cloudInit = asFields(m['cloud_init'])
  if (cloudInit) {
    const c: Fields = { ...cloudInit }
    c['datasource'] = trim(c['datasource']) || 'NoCloud'
    c['seed_mode'] = lowerTrim(c['seed_mode']) || 'vfat'
    for (const doc of ['user_data', 'meta_data', 'network_config']) {
      const d = { ...asFields(c[doc]) }
      d['content'] = trim(d['content'])
      d['path'] = trim(d['path'])
      c[doc] = d
    }
    m['cloud_init'] = c
  }
  const network = asFields(m['network'])
  if (network) {
    m['network'] = {
      ...network,
      mode: lowerTrim(network['mode']),
      subnet: trim(network['subnet']),
      gateway: trim(network['gateway'])
    }
  }
  const workload = { ...asFields(m['workload']) }
  workload['type'] = trim(workload['type'])
  workload['base_url'] = trim(workload['base_url'])
  workload['workdir'] = trim(workload['workdir'])
  if (Array.isArray(workload['entrypoint'])) {
    workload['entrypoint'] = workload['entrypoint'].map(trim).filter((arg) => arg !== '')
  }
  const env = asFields(workload['env'])
  if (env) {
    const trimmed: Fields = {}
    for (const [key, value] of Object.entries(env)) {
      if (key.trim() !== '') trimmed[key.trim()] = trim(value)
    }
    workload['env'] = trimmed
  }
  m['workload'] = workload
  const actions = asFields(m['actions'])
  if (actions) {
    const trimmed: Fields = {}
    for (const [name, action] of Object.entries(actions)) {
      if (name.trim() === '') continue
      const a = { ...asFields(action) }
      for (const key of ['description', 'method', 'path']) a[key] = trim(a[key])
      trimmed[name.trim()] = a
    }
    m['actions'] = Object.keys(trimmed).length > 0 ? trimmed : undefined
  }
  const labels: Fields = {}
  for (const [key, value] of Object.entries(asFields(m['labels']) ?? {})) labels[key] = trim(value)
  if (m['name'] !== '') labels['volant.plugin'] = m['name']
  if (m['runtime'] !== '') labels['volant.runtime'] = m['runtime']
  m['labels'] = labels
  return m
}

const string = (value: Json): string => goString(typeof value === 'string' ? value : '')
const int = (value: Json): string => String(typeof value === 'number' ? Math.trunc(value) : 0)
const bool = (value: Json): string => String(value === true)
const stringList = (value: Json): string =>
  Array.isArray(value) ? `[${value.map(string).join(',')}]` : 'null'
const stringMap = (value: Json): string => goMap(asFields(value), string)
const marshalStructValue =
  (fields: Field[]) =>
  (value: Json): string =>
    marshalStruct(asFields(value) ?? {}, fields)
const struct = (name: string, children: Field[]): Field => ({
  name,
  children,
  holds: 'struct',
  write: marshalStructValue(children)
})
/** A Go pointer to a struct: nil (absent or null) is dropped by omitempty (all of these have it). */
const pointer = (name: string, children: Field[]): Field => ({
  name,
  children,
  holds: 'struct',
  omitEmpty: true,
  write: (value) => (asFields(value) ? marshalStruct(asFields(value) ?? {}, children) : undefined)
})

const cloudInitDoc: Field[] = [
  { name: 'inline', write: bool, omitEmpty: true },
  { name: 'content', write: string, omitEmpty: true },
  { name: 'path', write: string, omitEmpty: true }
]
const action: Field[] = [
  { name: 'description', write: string },
  { name: 'method', write: string },
  { name: 'path', write: string },
  { name: 'timeout_ms', write: int }
]
const disk: Field[] = [
  { name: 'name', write: string },
  { name: 'source', write: string },
  { name: 'checksum', write: string, omitEmpty: true },
  { name: 'format', write: string, omitEmpty: true },
  { name: 'readonly', write: bool },
  { name: 'target', write: string, omitEmpty: true }
]
const manifestFields: Field[] = [
  { name: 'schema_version', write: string },
  { name: 'name', write: string },
  { name: 'version', write: string },
  { name: 'runtime', write: string },
  struct('rootfs', [
    { name: 'url', write: string },
    { name: 'checksum', write: string, omitEmpty: true },
    { name: 'format', write: string, omitEmpty: true }
  ]),
  struct('initramfs', [
    { name: 'url', write: string },
    { name: 'checksum', write: string, omitEmpty: true }
  ]),
  {
    name: 'disks',
    children: disk,
    holds: 'list',
    write: (value) =>
      Array.isArray(value) ? `[${value.map(marshalStructValue(disk)).join(',')}]` : 'null',
    omitEmpty: true
  },
  { name: 'image', write: string, omitEmpty: true },
  { name: 'image_digest', write: string, omitEmpty: true },
  struct('resources', [
    { name: 'cpu_cores', write: int },
    { name: 'memory_mb', write: int }
  ]),
  {
    name: 'actions',
    children: action,
    holds: 'map',
    write: (value) => goMap(asFields(value), marshalStructValue(action)),
    omitEmpty: true,
    map: true
  },
  struct('health_check', [
    { name: 'endpoint', write: string },
    { name: 'timeout_ms', write: int }
  ]),
  struct('workload', [
    { name: 'type', write: string },
    { name: 'base_url', write: string, omitEmpty: true },
    { name: 'entrypoint', write: stringList, omitEmpty: true },
    { name: 'env', write: stringMap, omitEmpty: true, map: true },
    { name: 'workdir', write: string, omitEmpty: true }
  ]),
  pointer('cloud_init', [
    { name: 'datasource', write: string, omitEmpty: true },
    { name: 'seed_mode', write: string, omitEmpty: true },
    // omitempty never drops a struct value in Go: these are always written.
    struct('user_data', cloudInitDoc),
    struct('meta_data', cloudInitDoc),
    struct('network_config', cloudInitDoc)
  ]),
  pointer('network', [
    { name: 'mode', write: string },
    { name: 'subnet', write: string, omitEmpty: true },
    { name: 'gateway', write: string, omitEmpty: true },
    { name: 'auto_assign', write: bool, omitEmpty: true }
  ]),
  pointer('devices', [
    { name: 'pci_passthrough', write: stringList, omitEmpty: true },
    { name: 'allowlist', write: stringList, omitEmpty: true }
  ]),
  { name: 'enabled', write: bool },
  { name: 'openapi', write: string, omitEmpty: true },
  { name: 'labels', write: stringMap, omitEmpty: true, map: true }
]

/** `json.Marshal(pluginspec.Manifest)` of a normalized manifest. */
export function marshalManifest(manifest: Fields): string {
  return marshalStruct(manifest, manifestFields)
}

function marshalStruct(value: Fields, fields: Field[]): string {
  const parts: string[] = []
  for (const field of fields) {
    const raw = value[field.name]
    if (
      field.omitEmpty &&
      (isGoEmpty(raw) || (field.map && Object.keys(asFields(raw) ?? {}).length === 0))
    )
      continue
    // A nil pointer without omitempty would be `null`; every pointer here has omitempty.
    const written = field.write(raw) ?? 'null'
    parts.push(`${goString(field.name)}:${written}`)
  }
  return `{${parts.join(',')}}`
}

export interface GoDecoded {
  /** The manifest with only the fields volant's struct has, under their canonical names. */
  manifest: Fields
  /** JSON paths of the keys the decoder ignored. */
  ignored: string[]
}

/**
 * What encoding/json keeps when it decodes into pluginspec.Manifest: each key goes to the field
 * of that name, or else to one whose name matches case-insensitively (a later key overwrites an
 * earlier one); keys matching no field are ignored. Values are kept as they are, so their JSON
 * types can still be checked.
 */
export function decodeLikeGo(value: Json): GoDecoded {
  const ignored: string[] = []
  const manifest = decodeStruct(asFields(value) ?? {}, manifestFields, '$', ignored)
  return { manifest, ignored }
}

function decodeStruct(value: Fields, fields: Field[], at: string, ignored: string[]): Fields {
  const out: Fields = {}
  for (const [key, raw] of Object.entries(value)) {
    const field =
      fields.find((f) => f.name === key) ?? fields.find((f) => f.name === key.toLowerCase())
    if (!field) {
      ignored.push(
        `${at}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`
      )
      continue
    }
    out[field.name] = decodeField(raw, field, `${at}.${field.name}`, ignored)
  }
  return out
}

function decodeField(raw: Json, field: Field, at: string, ignored: string[]): Json {
  const children = field.children
  if (!children) return raw
  if (field.holds === 'list') {
    return Array.isArray(raw)
      ? raw.map((item, i) =>
          asFields(item)
            ? decodeStruct(asFields(item) ?? {}, children, `${at}[${i}]`, ignored)
            : item
        )
      : raw
  }
  const object = asFields(raw)
  if (!object) return raw
  if (field.holds === 'map') {
    const out: Fields = {}
    for (const [key, item] of Object.entries(object)) {
      out[key] = asFields(item)
        ? decodeStruct(asFields(item) ?? {}, children, `${at}[${JSON.stringify(key)}]`, ignored)
        : item
    }
    return out
  }
  return decodeStruct(object, children, at, ignored)
}

function isGoEmpty(value: Json): boolean {
  if (value === undefined || value === null || value === '' || value === 0 || value === false)
    return true
  if (Array.isArray(value)) return value.length === 0
  // A struct behind a pointer is never empty; maps are empty with no keys.
  return false
}

/** Go sorts map keys by their bytes (UTF-8), and drops nothing. */
function goMap(map: Fields | undefined, write: (value: Json) => string | undefined): string {
  if (!map) return 'null'
  const keys = Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  if (keys.length === 0) return '{}'
  return `{${keys.map((key) => `${goString(key)}:${write(map[key]) ?? 'null'}`).join(',')}}`
}

const HEX = '0123456789abcdef'

/**
 * encoding/json's string encoding with HTML escaping on (json.Marshal's default): `<`, `>`,
 * `&`, U+2028 and U+2029 become \u escapes; since Go 1.22 \b and \f have short escapes
 * (volantd is built with Go 1.24).
 */
export function goString(text: string): string {
  let out = '"'
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (char === '"' || char === '\\') out += `\\${char}`
    else if (char === '\n') out += '\\n'
    else if (char === '\r') out += '\\r'
    else if (char === '\t') out += '\\t'
    else if (char === '\b') out += '\\b'
    else if (char === '\f') out += '\\f'
    else if (code < 0x20 || char === '<' || char === '>' || char === '&') {
      out += `\\u00${HEX[code >> 4]}${HEX[code & 0xf]}`
    } else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`
    // A lone surrogate is not UTF-8: Go writes U+FFFD for the bytes it cannot decode.
    else if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd'
    else out += char
  }
  return `${out}"`
}

/** unicode.IsSpace: JavaScript's \s without U+FEFF, plus U+0085. */
const GO_SPACE =
  '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'gu')

/** strings.TrimSpace. */
function trim(value: Json): string {
  return typeof value === 'string' ? value.replace(GO_TRIM, '') : ''
}

function lowerTrim(value: Json): string {
  return trim(value).toLowerCase()
}

function asFields(value: Json): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : undefined
}
