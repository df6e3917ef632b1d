import { Ajv, type ErrorObject } from 'ajv'
import addFormats from 'ajv-formats'
import { FledgeError, FledgeErrors } from '../errors.js'
import { ACCEPTED_CHECKSUM } from './checksum.js'
import { jsonPath, pointerSegments } from './json-path.js'
import { manifestSchema } from './schema.js'

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
  const problems = schemaCheck(value) ? [] : schemaProblems(schemaCheck.errors ?? [])
  const flagged = new Set(problems.map((problem) => problem.path))
  for (const problem of daemonProblems(value)) {
    if (!flagged.has(problem.path)) problems.push(problem)
  }
  return problems
}

/** Throws every problem at once, each naming the file and its JSON path. */
export function assertValidManifest(value: unknown, file: string): void {
  const problems = validateManifest(value)
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

const INITRAMFS_URL_PREFIXES = ['http://', 'https://', 'file://', '/']

/** volantd's loader checks (internal/pluginspec), beyond the schema. */
function daemonProblems(value: unknown): ManifestProblem[] {
  const problems: ManifestProblem[] = []
  const manifest = asRecord(value)
  const initramfs = asRecord(manifest?.['initramfs'])
  const url = initramfs?.['url']
  if (typeof url === 'string' && !INITRAMFS_URL_PREFIXES.some((prefix) => url.startsWith(prefix))) {
    problems.push({
      path: '$.initramfs.url',
      message: `must start with http://, https://, file:// or / (got ${JSON.stringify(url)})`
    })
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

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
