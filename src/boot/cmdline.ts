import { FledgeError } from '../errors.js'
import { COMMAND_LINE_LIMIT, encodeManifestParam } from '../manifest/cmdline.js'

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
  /** Manifest JSON text; travels as `volant.manifest=<base64url(gzip(JSON))>`. */
  manifestJson?: string
  runtime?: string
  plugin?: string
  apiHost?: string
  apiPort?: number
  network?: GuestNetwork
  /** More parameters, appended as given. */
  extra?: readonly string[]
}

/**
 * The kernel command line volantd gives a plugin VM. `panic=-1` makes a panic
 * reboot at once, which `-no-reboot` turns into the end of the VM: a broken
 * image stops the boot test instead of sitting until its timeout.
 */
export function buildCommandLine(options: CommandLineOptions): string {
  const params = ['console=ttyS0', 'panic=-1']
  if (options.manifestJson !== undefined) {
    params.push(`volant.manifest=${encodeManifestParam(options.manifestJson)}`)
  }
  if (options.runtime !== undefined)
    params.push(`volant.runtime=${checkValue('volant.runtime', options.runtime)}`)
  if (options.plugin !== undefined)
    params.push(`volant.plugin=${checkValue('volant.plugin', options.plugin)}`)
  if (options.apiHost !== undefined)
    params.push(`volant.api_host=${checkValue('volant.api_host', options.apiHost)}`)
  if (options.apiPort !== undefined) params.push(`volant.api_port=${options.apiPort}`)
  if (options.network) {
    const { address, gateway, netmask } = options.network
    params.push(`ip=${address}::${gateway}:${netmask}::eth0:off`)
  }
  params.push(...(options.extra ?? []))
  const cmdline = params.join(' ')
  assertCommandLineFits(cmdline)
  return cmdline
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
