/**
 * The consumer's JSON Schema (volant `docs/schemas/plugin-manifest-v1.json`),
 * written from the rules in docs: volant-manifest.md. Where that page gives
 * no shape (cloud_init, disks, devices …) the schema only checks the JSON type.
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
  additionalProperties: false,
  required: ['schema_version', 'name', 'version', 'runtime', 'resources', 'workload'],
  oneOf: [{ required: ['initramfs'] }, { required: ['rootfs'] }],
  properties: {
    $schema: { type: 'string' },
    schema_version: { type: 'string' },
    name: nonEmptyString,
    version: nonEmptyString,
    runtime: nonEmptyString,
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
      additionalProperties: false,
      required: ['url'],
      properties: { url: nonEmptyString, checksum: { type: 'string' } }
    },
    rootfs: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: nonEmptyString,
        checksum: { type: 'string' },
        format: { type: 'string', enum: ['raw', 'qcow2'] }
      }
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      required: ['cpu_cores', 'memory_mb'],
      properties: {
        cpu_cores: { type: 'integer', minimum: 1 },
        memory_mb: { type: 'integer', minimum: 1 }
      }
    },
    workload: {
      type: 'object',
      additionalProperties: false,
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
      additionalProperties: false,
      required: ['endpoint', 'timeout_ms'],
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
      additionalProperties: false,
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
