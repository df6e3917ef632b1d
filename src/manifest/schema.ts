/**
 * The shapes volant's Go decoder (internal/pluginspec, encoding/json) accepts, as a JSON Schema:
 * the JSON type of every field it reads, and the fields its Validate() requires. volant's
 * published schema (docs/schemas/plugin-manifest-v1.json) is documentation no code reads, and
 * where it is stricter than the decoder the decoder wins: unknown keys are ignored (listed by
 * `ignoredKeys`, not refused), schema_version and runtime may be missing (runtime defaults to
 * name), health_check's fields are optional. Where volant gives no shape (cloud_init, disks,
 * devices …) only the JSON type is checked.
 */
export const MANIFEST_SCHEMA_ID =
  'https://raw.githubusercontent.com/volantvm/volant/main/docs/schemas/plugin-manifest-v1.json'

const nonEmptyString = { type: 'string', minLength: 1 } as const
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const

export const manifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: MANIFEST_SCHEMA_ID,
  title: 'Volant plugin manifest v1',
  type: 'object',
  required: ['name', 'version', 'resources', 'workload'],
  oneOf: [{ required: ['initramfs'] }, { required: ['rootfs'] }],
  properties: {
    $schema: { type: 'string' },
    schema_version: { type: 'string' },
    name: nonEmptyString,
    version: nonEmptyString,
    runtime: { type: 'string' },
    enabled: { type: 'boolean' },
    initramfs: { $ref: '#/definitions/initramfs' },
    rootfs: { $ref: '#/definitions/rootfs' },
    resources: { $ref: '#/definitions/resources' },
    workload: { $ref: '#/definitions/workload' },
    health_check: { $ref: '#/definitions/health_check' },
    network: { $ref: '#/definitions/network' },
    actions: { type: 'object', additionalProperties: { $ref: '#/definitions/action' } },
    cloud_init: { type: 'object' },
    disks: { type: 'array', items: { type: 'object' } },
    devices: { type: 'object' },
    labels: stringMap,
    image: { type: 'string' },
    image_digest: { type: 'string' },
    openapi: { type: 'string' }
  },
  definitions: {
    initramfs: {
      type: 'object',
      required: ['url'],
      properties: { url: nonEmptyString, checksum: { type: 'string' } }
    },
    rootfs: {
      type: 'object',
      required: ['url'],
      properties: {
        url: nonEmptyString,
        checksum: { type: 'string' },
        format: { type: 'string', enum: ['raw', 'qcow2'] }
      }
    },
    resources: {
      type: 'object',
      required: ['cpu_cores', 'memory_mb'],
      properties: {
        cpu_cores: { type: 'integer', minimum: 1 },
        memory_mb: { type: 'integer', minimum: 1 }
      }
    },
    workload: {
      type: 'object',
      required: ['type', 'base_url', 'entrypoint'],
      properties: {
        type: { type: 'string', enum: ['http'] },
        base_url: { type: 'string', format: 'uri' },
        entrypoint: { type: 'array', items: { type: 'string' }, minItems: 1 },
        env: stringMap,
        workdir: { type: 'string' }
      }
    },
    health_check: {
      type: 'object',
      properties: {
        endpoint: { type: 'string' },
        timeout_ms: { type: 'integer', minimum: 0 }
      }
    },
    action: {
      type: 'object',
      required: ['method', 'path'],
      properties: {
        method: nonEmptyString,
        path: nonEmptyString,
        description: { type: 'string' },
        timeout_ms: { type: 'integer', minimum: 0 }
      }
    },
    network: {
      type: 'object',
      required: ['mode'],
      properties: {
        mode: { type: 'string', enum: ['vsock', 'bridged', 'dhcp'] },
        subnet: { type: 'string' },
        gateway: { type: 'string' },
        auto_assign: { type: 'boolean' }
      }
    }
  }
} as const
