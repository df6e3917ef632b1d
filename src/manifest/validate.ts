import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import { FledgeError, FledgeErrors } from '../errors.js'
import { ACCEPTED_CHECKSUM } from './checksum.js'
import { jsonPath, pointerSegments } from './json-path.js'
import { manifestSchema } from './schema.js'
import { decodeLikeGo } from './volant-encode.js'

export interface ManifestProblem {
  /** JSON path of the offending value, e.g. `$.workload.base_url` */
  path: string
  message: string
}

// strictRequired would reject the oneOf branches, which name properties defined one level up.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false })
// ajv-formats is CommonJS: under NodeNext its function is the `default` of the import.
addFormats.default(ajv, ['uri'])
const schemaCheck = ajv.compile(manifestSchema)

/**
 * Everything volantd would refuse: its JSON Schema, then the checks its
 * loader makes in code. An empty list means the manifest installs.
 */
export function validateManifest(value: unknown): ManifestProblem[] {
  // For a non-object the schema's required/oneOf rules pass or fail vacuously: noise.
  if (!asRecord(value)) return [{ path: '$', message: 'must be an object' }]
  value = asVolantValidates(value)
  const problems = schemaCheck(value) ? [] : schemaProblems(schemaCheck.errors ?? [])
  const flagged = new Set(problems.map((problem) => problem.path))
  for (const problem of daemonProblems(value)) {
    if (!flagged.has(problem.path)) problems.push(problem)
  }
  return problems
}

/**
 * A manifest file's text as volar reads it: encoding/json refuses a UTF-8 BOM (`invalid
 * character 'ï'`), so a BOM is a problem here, not something to skip.
 */
export function validateManifestText(text: string): ManifestProblem[] {
  if (text.startsWith('\uFEFF')) {
    return [
      {
        path: '$',
        message:
          "starts with a UTF-8 byte order mark, which volar refuses (invalid character 'ï'); save the file as UTF-8 without BOM"
      }
    ]
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return [{ path: '$', message: `is not JSON (${(error as Error).message})` }]
  }
  return validateManifest(value)
}

/** Throws every problem at once, each naming the file and its JSON path. */
export function assertValidManifest(value: unknown, file: string): void {
  throwProblems(validateManifest(value), file)
}

/** The same for a manifest file's text, read as volar reads it (a BOM is refused). */
export function assertValidManifestText(text: string, file: string): void {
  throwProblems(validateManifestText(text), file)
}

function throwProblems(problems: ManifestProblem[], file: string): void {
  if (problems.length === 0) return
  const errors = problems.map(
    ({ path, message }) =>
      new FledgeError(`${message}.`, {
        file,
        key: path,
        fix: 'see the Volant plugin manifest reference.'
      })
  )
  throw errors.length === 1 ? errors[0] : new FledgeErrors(errors)
}

function schemaProblems(errors: readonly ErrorObject[]): ManifestProblem[] {
  // The branches of the initramfs/rootfs oneOf report their own `required`
  // errors; the oneOf error says it better.
  return errors
    .filter((error) => !error.schemaPath.startsWith('#/oneOf/'))
    .map((error) => describeSchemaError(error))
}

function describeSchemaError(error: ErrorObject): ManifestProblem {
  const at = pointerSegments(error.instancePath)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { path: jsonPath([...at, String(params['missingProperty'])]), message: 'is required' }
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema?.['properties'] as object | undefined) ?? {})
      return {
        path: jsonPath([...at, String(params['additionalProperty'])]),
        message: `is not an allowed key here (allowed: ${allowed.join(', ')})`
      }
    }
    case 'oneOf':
      return {
        path: jsonPath(at),
        message: `needs exactly one of "initramfs" or "rootfs" (it has ${params['passingSchemas'] ? 'both' : 'neither'})`
      }
    case 'enum':
      return {
        path: jsonPath(at),
        message: `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(error.data)}`
      }
    case 'type':
      return { path: jsonPath(at), message: `must be ${withArticle(String(params['type']))}` }
    case 'minLength':
      return { path: jsonPath(at), message: 'must not be empty' }
    case 'minItems':
      return {
        path: jsonPath(at),
        message: `must have at least ${String(params['limit'])} item(s)`
      }
    case 'minimum':
      return {
        path: jsonPath(at),
        message: `must be at least ${String(params['limit'])}, not ${String(error.data)}`
      }
    case 'format':
      return {
        path: jsonPath(at),
        message: `must be an absolute URL such as "http://127.0.0.1:8080", not ${JSON.stringify(error.data)}`
      }
    default:
      return { path: jsonPath(at), message: error.message ?? error.keyword }
  }
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** kestrel's port in the guest: volantd reaches the agent there (agentDefaultPort). */
export const AGENT_GUEST_PORT = 8080

/**
 * volant's checks in code (pluginspec's Validate, on trimmed values), and what fails later, when
 * the VM starts: the launcher opens initramfs.url as a path unless it is http(s), so a file://
 * URL passes install and then fails; kestrel halts when the workload holds its port 8080.
 */
function daemonProblems(value: unknown): ManifestProblem[] {
  const problems: ManifestProblem[] = []
  const manifest = asRecord(value)
  for (const key of ['name', 'version']) {
    const field = manifest?.[key]
    if (typeof field === 'string' && field !== '' && field.trim() === '') {
      problems.push({ path: `$.${key}`, message: 'must not be only white space (volant trims it)' })
    }
  }
  const initramfs = asRecord(manifest?.['initramfs'])
  const url = initramfs?.['url']
  if (typeof url === 'string') {
    const problem = initramfsUrlProblem(url.trim())
    if (problem) problems.push({ path: '$.initramfs.url', message: problem })
  }
  for (const media of ['initramfs', 'rootfs']) {
    const checksum = asRecord(manifest?.[media])?.['checksum']
    if (typeof checksum === 'string' && !ACCEPTED_CHECKSUM.test(checksum)) {
      problems.push({
        path: `$.${media}.checksum`,
        message: `must be "sha256:" followed by 64 hex digits, or the 64 hex digits alone (got ${JSON.stringify(checksum)})`
      })
    }
  }
  const workload = asRecord(manifest?.['workload'])
  const baseUrl = workload?.['base_url']
  if (typeof baseUrl === 'string' && !URL.canParse(baseUrl)) {
    problems.push({
      path: '$.workload.base_url',
      message: `is not a URL: ${JSON.stringify(baseUrl)}`
    })
  } else if (typeof baseUrl === 'string' && workloadPort(baseUrl) === AGENT_GUEST_PORT) {
    problems.push({ path: '$.workload.base_url', message: AGENT_PORT_CLASH })
  }
  const entrypoint = workload?.['entrypoint']
  if (
    Array.isArray(entrypoint) &&
    typeof entrypoint[0] === 'string' &&
    entrypoint[0].trim() === ''
  ) {
    problems.push({
      path: '$.workload.entrypoint[0]',
      message: 'the program to run must not be empty'
    })
  }
  return problems
}

export const AGENT_PORT_CLASH =
  `uses port ${AGENT_GUEST_PORT}, kestrel's own port in the guest: kestrel serves volantd there ` +
  'once the workload is healthy, and halts when the workload already holds it ' +
  '(listen the workload on another port, e.g. 80, and set base_url to match)'

/** The TCP port of an http(s) base_url, with the scheme's default. */
export function workloadPort(baseUrl: string): number | undefined {
  if (!URL.canParse(baseUrl)) return undefined
  const url = new URL(baseUrl)
  if (url.port !== '') return Number(url.port)
  return url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : undefined
}

function initramfsUrlProblem(url: string): string | undefined {
  if (url.startsWith('http://') || url.startsWith('https://')) return undefined
  if (url.startsWith('file://')) {
    return (
      `is a file:// URL, which volant accepts at install but cannot open when the VM starts ` +
      `(its launcher opens the URL string as a path); use the plain absolute path ` +
      `${JSON.stringify(fileUrlPath(url))}`
    )
  }
  if (url.startsWith('/')) return undefined
  return `must be an http(s) URL or an absolute path (got ${JSON.stringify(url)})`
}

function fileUrlPath(url: string): string {
  try {
    return new URL(url).pathname
  } catch {
    return url.slice('file://'.length)
  }
}

/**
 * Keys volant's decoder does not know: it ignores them (encoding/json drops unknown fields),
 * so they never reach volantd's re-encoded manifest or the agent. Not an error; worth a note.
 * `$schema` is for editors and stays without a note.
 */
export function ignoredKeys(value: unknown): string[] {
  return decodeLikeGo(value).ignored.filter((key) => key !== '$.$schema')
}

/**
 * The decoded manifest with the folding volant applies before it validates (Normalize and
 * Validate lowercase and trim these), so " Bridged " passes as volant lets it.
 */
function asVolantValidates(value: unknown): Record<string, unknown> {
  const { manifest } = decodeLikeGo(value)
  const folded = (object: unknown, key: string): void => {
    const record = asRecord(object)
    if (record && typeof record[key] === 'string')
      record[key] = (record[key] as string).trim().toLowerCase()
  }
  folded(manifest['network'], 'mode')
  folded(manifest['rootfs'], 'format')
  folded(manifest['workload'], 'type')
  if ('$schema' in (asRecord(value) ?? {})) manifest['$schema'] = asRecord(value)?.['$schema']
  return manifest
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
