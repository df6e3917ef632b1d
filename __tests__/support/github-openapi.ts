/**
 * GitHub's own OpenAPI description (`@octokit/openapi`), used by the fake server
 * to route requests and to check them (and its own responses) against the real API.
 * The description is 13 MB: it is loaded once, on first use.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import { Ajv, type ValidateFunction } from 'ajv'
import * as ajvFormats from 'ajv-formats'

type Json = unknown
type JsonObject = Record<string, Json>

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: JsonObject
  'x-multi-segment'?: boolean
}

interface Operation {
  operationId: string
  method: string
  template: string
  pattern: RegExp
  pathParamNames: string[]
  literalSegments: number
  parameters: Parameter[]
  requestBody: { required?: boolean; content?: Record<string, { schema?: JsonObject }> } | undefined
  responses: Record<string, { content?: Record<string, { schema?: JsonObject }> }>
}

export interface OperationMatch {
  operation: Operation
  pathParams: Record<string, string>
}

export interface RequestToCheck {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

const isObject = (value: Json): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// GitHub answers `state: "starter"` for an asset whose upload broke off (the
// upload endpoint's documentation says so), but the schema's enum only lists
// "uploaded" and "open". The fake server must be able to say "starter".
const ASSET_STATES_SEEN_ON_GITHUB = ['uploaded', 'open', 'starter']

export class OpenApiDescription {
  private static instance: OpenApiDescription | undefined
  private readonly byMethod = new Map<string, Operation[]>()
  private readonly schemas: Record<string, Json>
  private readonly ajv: Ajv
  private readonly validators = new Map<string, ValidateFunction>()

  static load(): OpenApiDescription {
    if (!OpenApiDescription.instance) {
      const require = createRequire(import.meta.url)
      const file = require.resolve('@octokit/openapi/generated/api.github.com.json')
      OpenApiDescription.instance = new OpenApiDescription(
        JSON.parse(fs.readFileSync(file, 'utf8')) as JsonObject
      )
    }
    return OpenApiDescription.instance
  }

  private constructor(document: JsonObject) {
    const components = (document['components'] ?? {}) as Record<string, Record<string, Json>>
    this.schemas = components['schemas'] ?? {}
    const asset = this.schemas['release-asset']
    if (
      isObject(asset) &&
      isObject(asset['properties']) &&
      isObject(asset['properties']['state'])
    ) {
      asset['properties']['state'] = {
        ...asset['properties']['state'],
        enum: ASSET_STATES_SEEN_ON_GITHUB
      }
    }
    const parameters = components['parameters'] ?? {}
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false })
    const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ?? ajvFormats) as (
      ajv: Ajv
    ) => Ajv
    addFormats(this.ajv)

    for (const [template, item] of Object.entries(
      (document['paths'] ?? {}) as Record<string, JsonObject>
    )) {
      for (const [method, raw] of Object.entries(item)) {
        if (!isObject(raw) || typeof raw['operationId'] !== 'string') continue
        const declared = [
          ...((item['parameters'] as Json[]) ?? []),
          ...((raw['parameters'] as Json[]) ?? [])
        ]
        const resolved = declared.map((p) => {
          const ref = isObject(p) ? p['$ref'] : undefined
          return (
            typeof ref === 'string' ? parameters[ref.replace('#/components/parameters/', '')] : p
          ) as Parameter
        })
        const { pattern, names } = compileTemplate(template, resolved)
        const operation: Operation = {
          operationId: raw['operationId'],
          method: method.toUpperCase(),
          template,
          pattern,
          pathParamNames: names,
          literalSegments: template.split('/').filter((s) => s && !s.startsWith('{')).length,
          parameters: resolved,
          requestBody: this.resolveRef(raw['requestBody'], components) as Operation['requestBody'],
          responses: Object.fromEntries(
            Object.entries((raw['responses'] ?? {}) as JsonObject).map(([status, r]) => [
              status,
              this.resolveRef(r, components) as Operation['responses'][string]
            ])
          )
        }
        const list = this.byMethod.get(operation.method) ?? []
        list.push(operation)
        this.byMethod.set(operation.method, list)
      }
    }
    // `/releases/latest` must win over `/releases/{release_id}`: most literal segments first.
    for (const list of this.byMethod.values())
      list.sort((a, b) => b.literalSegments - a.literalSegments)
  }

  match(method: string, path: string): OperationMatch | undefined {
    for (const operation of this.byMethod.get(method.toUpperCase()) ?? []) {
      const found = operation.pattern.exec(path)
      if (!found) continue
      const pathParams: Record<string, string> = {}
      operation.pathParamNames.forEach((name, i) => {
        pathParams[name] = decodeURIComponent(found[i + 1] ?? '')
      })
      return { operation, pathParams }
    }
    return undefined
  }

  /** Problems with a request that matched `found`; empty when it conforms. */
  checkRequest(found: OperationMatch, request: RequestToCheck): string[] {
    const { operation, pathParams } = found
    const problems: string[] = []
    for (const parameter of operation.parameters) {
      if (parameter.in === 'path') {
        problems.push(
          ...this.checkValue(
            `path parameter ${parameter.name}`,
            pathParams[parameter.name],
            parameter
          )
        )
      } else if (parameter.in === 'query') {
        const value = request.query.get(parameter.name) ?? undefined
        if (value === undefined && parameter.required)
          problems.push(`query parameter ${parameter.name} is required`)
        else if (value !== undefined)
          problems.push(...this.checkValue(`query parameter ${parameter.name}`, value, parameter))
      }
    }
    const known = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name))
    for (const name of new Set(request.query.keys())) {
      if (!known.has(name))
        problems.push(`query parameter ${name} is not part of ${operation.operationId}`)
    }
    problems.push(...this.checkBody(operation, request))
    return problems
  }

  /** Problems with a response the fake server is about to send (a bug in the fake). */
  checkResponse(operation: Operation, status: number, body: Json): string[] {
    const schema = operation.responses[String(status)]?.content?.['application/json']?.schema
    if (!schema) return []
    const validate = this.validator(`${operation.operationId} ${status} response`, schema)
    return validate(body)
      ? []
      : [`response ${status}: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}`]
  }

  private checkBody(operation: Operation, request: RequestToCheck): string[] {
    const content = operation.requestBody?.content
    const hasBody = request.body.length > 0
    if (!content) return hasBody ? [`${operation.operationId} takes no request body`] : []
    const contentType = String(request.headers['content-type'] ?? '')
    if (content['application/octet-stream']) {
      // The upload endpoint's description says Content-Type and Content-Length are required.
      const problems: string[] = []
      if (!contentType) problems.push('content-type header is required for an upload')
      if (request.headers['content-length'] === undefined)
        problems.push('content-length header is required')
      return problems
    }
    const jsonSchema = content['application/json']?.schema
    if (!jsonSchema) return []
    if (!hasBody) return operation.requestBody?.required ? ['a JSON request body is required'] : []
    if (!contentType.startsWith('application/json'))
      return [`content-type must be application/json, got "${contentType}"`]
    let body: Json
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch {
      return ['request body is not valid JSON']
    }
    const validate = this.validator(`${operation.operationId} request`, jsonSchema)
    return validate(body)
      ? []
      : [`request body: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}`]
  }

  private checkValue(what: string, raw: string | undefined, parameter: Parameter): string[] {
    if (raw === undefined) return parameter.required ? [`${what} is required`] : []
    if (!parameter.schema) return []
    const value = coerce(raw, parameter.schema)
    const validate = this.validator(`${what} ${JSON.stringify(parameter.schema)}`, parameter.schema)
    return validate(value)
      ? []
      : [`${what}: ${this.ajv.errorsText(validate.errors, { dataVar: 'value' })}`]
  }

  private validator(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.validators.get(key)
    if (!validate) {
      validate = this.ajv.compile(this.standalone(schema))
      this.validators.set(key, validate)
    }
    return validate
  }

  /**
   * A self-contained JSON Schema: component `$ref`s are copied into `definitions`
   * (only those reachable), and OpenAPI 3.0 `nullable` becomes `anyOf [..., null]`.
   */
  private standalone(root: JsonObject): JsonObject {
    const definitions: Record<string, Json> = {}
    const convert = (node: Json): Json => {
      if (Array.isArray(node)) return node.map(convert)
      if (!isObject(node)) return node
      const ref = node['$ref']
      if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
        const name = ref.slice('#/components/schemas/'.length)
        if (!(name in definitions)) {
          definitions[name] = true // placeholder: stops recursion on cyclic schemas
          definitions[name] = convert(this.schemas[name])
        }
        return { $ref: `#/definitions/${name}` }
      }
      const { nullable, ...rest } = node
      const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, convert(v)]))
      return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted
    }
    const converted = convert(root)
    return { definitions, allOf: [converted] }
  }

  private resolveRef(value: Json, components: Record<string, Record<string, Json>>): Json {
    if (!isObject(value) || typeof value['$ref'] !== 'string') return value
    const [, , kind, name] = value['$ref'].split('/')
    return components[kind ?? '']?.[name ?? '']
  }
}

function compileTemplate(
  template: string,
  parameters: Parameter[]
): { pattern: RegExp; names: string[] } {
  const names: string[] = []
  const source = template.replace(/\{([^}]+)\}|[^{]+/g, (part, name: string | undefined) => {
    if (name === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    names.push(name)
    const multi = parameters.some((p) => p.name === name && p.in === 'path' && p['x-multi-segment'])
    return multi ? '(.+)' : '([^/]+)'
  })
  return { pattern: new RegExp(`^${source}$`), names }
}

function coerce(raw: string, schema: JsonObject): Json {
  switch (schema['type']) {
    case 'integer':
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw
    default:
      return raw
  }
}
