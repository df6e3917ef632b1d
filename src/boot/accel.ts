import * as fs from 'node:fs'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { launchQemu, type Accelerator } from './qemu.js'

export type { Accelerator } from './qemu.js'

export interface AcceleratorProbe {
  qemu: string
  /** The kernel the real boot will use: the probe proves KVM can run *it*. */
  kernel: string
  log: Logger
  env?: NodeJS.ProcessEnv
  probeTimeoutMs?: number
}

/** A working KVM boots the kernel to its panic in about a second; a broken one prints nothing. */
const DEFAULT_PROBE_TIMEOUT_MS = 8000

/** The panics a kernel reaches at the very end of its init when it has no root fs and no init. */
const END_OF_BOOT = /Unable to mount root fs|No working init found/

let cached: Promise<Accelerator> | undefined

/**
 * 'kvm' when a short KVM boot of the kernel gets to its end, else 'tcg'.
 * `FLEDGE_ACCEL=kvm|tcg` skips the probe. The probed answer is kept for the
 * life of the process.
 */
export function detectAccelerator(probe: AcceleratorProbe): Promise<Accelerator> {
  const forced = (probe.env ?? process.env)['FLEDGE_ACCEL']
  if (forced !== undefined && forced !== '') {
    if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced)
    return Promise.reject(
      new FledgeError(`FLEDGE_ACCEL=${forced} is not an accelerator.`, {
        key: 'FLEDGE_ACCEL',
        fix: 'set FLEDGE_ACCEL to kvm or tcg, or unset it to detect.'
      })
    )
  }
  cached ??= probeKvm(probe)
  return cached
}

/** Forget the probed answer (tests). */
export function resetAcceleratorCache(): void {
  cached = undefined
}

async function probeKvm(probe: AcceleratorProbe): Promise<Accelerator> {
  const { log } = probe
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK)
  } catch {
    log.info(
      'KVM not available (/dev/kvm missing or not accessible): booting under software emulation'
    )
    return 'tcg'
  }
  // /dev/kvm can exist and still hang a guest forever (nested virtualisation
  // without the features a kernel needs), so only a real boot settles it. With
  // no initramfs the kernel runs its whole init and then panics for lack of a
  // root fs; reaching that panic (not any panic) is the proof.
  const vm = launchQemu({
    qemu: probe.qemu,
    kernel: probe.kernel,
    append: 'console=ttyS0 panic=-1',
    accel: 'kvm',
    memoryMb: 256,
    timeoutMs: probe.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS
  })
  let output = ''
  const booted = new Promise<boolean>((resolve) => {
    vm.onConsole((text) => {
      output += text
      if (END_OF_BOOT.test(output)) resolve(true)
    })
    void vm.exited.then(() => resolve(END_OF_BOOT.test(output)))
  })
  const ok = await booted
  vm.stop()
  const exit = await vm.exited
  if (ok) {
    log.debug(`KVM probe booted ${probe.kernel} in ${Date.now() - vm.startedAt} ms`)
    return 'kvm'
  }
  const why = exit.timedOut
    ? `a test boot under KVM made no progress in ${probe.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS} ms`
    : `QEMU could not use KVM${exit.stderr ? ` (${lastLine(exit.stderr)})` : ''}`
  log.info(`KVM not usable: ${why}; booting under software emulation`)
  return 'tcg'
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? ''
}
