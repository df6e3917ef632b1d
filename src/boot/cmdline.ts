import { FledgeError } from '../errors.js'
import { COMMAND_LINE_LIMIT, VOLANTD_BASE_PARAMETERS } from '../manifest/cmdline.js'
import { encodeVolantManifest } from '../manifest/volant-encode.js'

/** The guest's static address, as volantd leases it and passes it in `ip=`. */
export interface GuestNetwork {
  address: string
  gateway: string
  netmask: string
}

/** QEMU user networking puts the guest at 10.0.2.15 behind a gateway at 10.0.2.2. */
export const QEMU_USER_NETWORK: GuestNetwork = {
  address: '10.0.2.15',
  gateway: '10.0.2.2',
  netmask: '255.255.255.0'
}

export interface CommandLineOptions {
  /** Manifest JSON text; travels as volantd encodes it (see encodeVolantManifest). */
  manifestJson?: string
  /** volant.runtime and volant.plugin; volantd defaults the runtime to the plugin's name. */
  runtime?: string
  plugin?: string
  apiHost?: string
  apiPort?: number
  network?: GuestNetwork
  /** The VM's name: volantd puts it, lowercased and cut to [a-z0-9-], in `ip=` as the hostname. */
  vmName?: string
  /** Parameters after volantd's own, for diagnostics only (e.g. loglevel=7). */
  extra?: readonly string[]
}

/**
 * The kernel command line volantd gives a plugin VM, byte for byte: its fixed parameters, `ip=`
 * (the kernel's own network autoconfiguration; neither the init nor kestrel configures a
 * network), then the `volant.*` parameters sorted by key (appendKernelArgs sorts them).
 */
export function buildCommandLine(options: CommandLineOptions): string {
  const params: string[] = [...VOLANTD_BASE_PARAMETERS]
  if (options.network) {
    const { address, gateway, netmask } = options.network
    params.push(`ip=${address}::${gateway}:${netmask}:${hostnameOf(options.vmName ?? '')}:eth0:off`)
  }
  const volant: [string, string][] = []
  if (options.apiHost !== undefined)
    volant.push(['volant.api_host', checkValue('volant.api_host', options.apiHost)])
  if (options.apiPort !== undefined) volant.push(['volant.api_port', String(options.apiPort)])
  if (options.manifestJson !== undefined)
    volant.push(['volant.manifest', encodeVolantManifest(options.manifestJson)])
  if (options.plugin !== undefined)
    volant.push(['volant.plugin', checkValue('volant.plugin', options.plugin)])
  if (options.runtime !== undefined)
    volant.push(['volant.runtime', checkValue('volant.runtime', options.runtime)])
  volant.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  params.push(...volant.map(([key, value]) => `${key}=${value}`))
  params.push(...(options.extra ?? []))
  const cmdline = params.join(' ')
  assertCommandLineFits(cmdline)
  return cmdline
}

/** volantd: the VM name, lowercased, with everything but a-z, 0-9 and '-' removed. */
export function hostnameOf(vmName: string): string {
  return vmName.toLowerCase().replace(/[^a-z0-9-]/g, '')
}

/** The kernel splits parameters on spaces and strips quotes: a value with either would be cut. */
function checkValue(key: string, value: string): string {
  if (value === '' || /[\s"]/.test(value)) {
    throw new FledgeError(`${key} ${JSON.stringify(value)} cannot go on a kernel command line.`, {
      key,
      fix: 'use a non-empty value without spaces or quotes.'
    })
  }
  return value
}

export function assertCommandLineFits(cmdline: string): void {
  const bytes = Buffer.byteLength(cmdline, 'utf8')
  if (bytes < COMMAND_LINE_LIMIT) return
  const manifest = /(?:^| )volant\.manifest=(\S*)/.exec(cmdline)?.[1]
  const share = manifest === undefined ? '' : ` (the encoded manifest takes ${manifest.length})`
  throw new FledgeError(
    `kernel command line is ${bytes} bytes${share}; x86-64 kernels keep at most ` +
      `${COMMAND_LINE_LIMIT - 1} (COMMAND_LINE_SIZE ${COMMAND_LINE_LIMIT} with the final NUL), ` +
      `and past that the guest hangs without a word.`,
    manifest === undefined
      ? { fix: 'drop command-line parameters.' }
      : {
          key: 'volant.manifest',
          fix: 'shrink the manifest volantd puts on the command line (gzip + base64url of its JSON): drop long descriptions, openapi, cloud_init or unused actions.'
        }
  )
}
