import { COMMAND_LINE_LIMIT, commandLineFits, VOLANTD_BASE_PARAMETERS } from './cmdline.js'
import { encodeVolantManifest } from './volant-encode.js'

export interface CommandLineEstimate {
  /** the kernel command line volantd would build, with worst-case addresses */
  cmdline: string
  /** bytes of `volant.manifest=<…>` */
  manifestBytes: number
  /** bytes of the whole command line, with room for arguments we cannot predict */
  totalBytes: number
}

const WIDEST_IP = '255.255.255.255'
/** Room for kernel arguments volantd or the host configuration may add beyond the volant.* ones. */
const EXTRA_ARGUMENTS_BYTES = 128
/** The VM name volantd puts in `ip=` is the user's choice; allow a generous one. */
const HOSTNAME_ALLOWANCE = 63

export function estimateCommandLine(manifestJson: string): CommandLineEstimate {
  const manifest = parseObject(manifestJson)
  const manifestParam = `volant.manifest=${manifest ? encodeVolantManifest(manifestJson) : ''}`
  const others = [
    ...VOLANTD_BASE_PARAMETERS,
    `ip=${WIDEST_IP}::${WIDEST_IP}:${WIDEST_IP}:${'x'.repeat(HOSTNAME_ALLOWANCE)}:eth0:off`,
    `volant.runtime=${stringField(manifest, 'runtime') ?? stringField(manifest, 'name') ?? ''}`,
    `volant.plugin=${stringField(manifest, 'name') ?? ''}`,
    `volant.api_host=${WIDEST_IP}`,
    'volant.api_port=65535'
  ]
  const cmdline = [...others, manifestParam].join(' ')
  return {
    cmdline,
    manifestBytes: Buffer.byteLength(manifestParam),
    totalBytes: Buffer.byteLength(cmdline) + EXTRA_ARGUMENTS_BYTES
  }
}

/**
 * A warning when the manifest would push the guest's kernel command line
 * past COMMAND_LINE_SIZE (the kernel truncates it and the agent never gets a
 * whole manifest); undefined when it fits.
 */
export function checkCommandLine(manifestJson: string): string | undefined {
  const estimate = estimateCommandLine(manifestJson)
  if (commandLineFits(estimate.cmdline + ' '.repeat(EXTRA_ARGUMENTS_BYTES))) return undefined
  const largest = largestParts(parseObject(manifestJson))
  return (
    `the manifest takes ${estimate.manifestBytes} bytes of the guest's kernel command line ` +
    `(volant.manifest=, gzip + base64url); with volantd's other parameters that is about ` +
    `${estimate.totalBytes} bytes, over the ${COMMAND_LINE_LIMIT}-byte limit of x86-64 kernels, ` +
    `so the agent would get a truncated manifest.` +
    (largest ? ` Largest parts: ${largest}.` : '') +
    ' Shorten them (for example move configuration from workload.env into a file in the image).'
  )
}

function largestParts(manifest: Record<string, unknown> | undefined): string {
  if (!manifest) return ''
  const parts = Object.entries(manifest).flatMap(([key, value]): [string, unknown][] =>
    key === 'workload' && isObject(value)
      ? Object.entries(value).map(([inner, v]): [string, unknown] => [`workload.${inner}`, v])
      : [[key, value]]
  )
  return parts
    .map(([key, value]) => [key, JSON.stringify(value).length] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([key, size]) => `${key} (${size} bytes of JSON)`)
    .join(', ')
}

function parseObject(json: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(json.replace(/^\uFEFF/, ''))
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringField(
  manifest: Record<string, unknown> | undefined,
  key: string
): string | undefined {
  const value = manifest?.[key]
  return typeof value === 'string' ? value : undefined
}
