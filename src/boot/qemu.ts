import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'

export type Accelerator = 'kvm' | 'tcg'

const QEMU_BINARY = 'qemu-system-x86_64'

export const QEMU_PACKAGE = 'qemu-system-x86'

/** `qemu-system-x86_64` from PATH. The engine installs nothing: a missing QEMU is reported with its package. */
export async function findQemu(_log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = qemuOnPath(env)
  if (found) return found
  throw new FledgeError(`${QEMU_BINARY} not found on PATH; the boot test runs the image under QEMU.`, {
    fix: `install QEMU: on Debian/Ubuntu, as root, \`apt install ${QEMU_PACKAGE}\` (the Action installs it itself on GitHub's runners).`
  })
}

export function qemuOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, QEMU_BINARY)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export interface PortForward {
  hostPort: number
  guestPort: number
}

export interface QemuLaunch {
  qemu: string
  kernel: string
  /** Omitted for the accelerator probe: the kernel then boots to its "no root fs" panic. */
  initrd?: string
  append: string
  accel: Accelerator
  memoryMb?: number
  cpus?: number
  /**
   * A virtio NIC on QEMU user networking with no way out of the VM; each of `forwards`
   * publishes a guest TCP port on 127.0.0.1. Without `network` the VM has no NIC.
   */
  network?: { forwards?: readonly PortForward[] }
  /** QEMU is killed after this long, whatever happens. */
  timeoutMs: number
  /**
   * Software emulation with QEMU's instruction counter: guest time advances 1 ns per
   * instruction, and idle time jumps to the next timer (sleep=off), so the guest's clock no
   * longer depends on the host's speed or load. TCG only.
   */
  icount?: boolean
}

export function qemuArguments(launch: QemuLaunch): string[] {
  const args = [
    // -nodefaults also drops the default NIC, which would be unrestricted user networking.
    '-nodefaults',
    '-no-user-config',
    '-M',
    'pc',
    '-accel',
    launch.accel,
    ...(launch.accel === 'kvm' ? ['-cpu', 'host'] : []),
    ...(launch.icount ? ['-icount', 'shift=0,sleep=off'] : []),
    '-m',
    String(launch.memoryMb ?? 512),
    '-smp',
    String(launch.cpus ?? 1),
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-kernel',
    launch.kernel,
    ...(launch.initrd === undefined ? [] : ['-initrd', launch.initrd]),
    '-append',
    launch.append
  ]
  if (launch.network) {
    // restrict=on: the guest reaches nothing (not the host, not the internet); hostfwd still works.
    let netdev = 'user,id=net0,restrict=on'
    for (const forward of launch.network.forwards ?? []) {
      netdev += `,hostfwd=tcp:127.0.0.1:${forward.hostPort}-:${forward.guestPort}`
    }
    args.push('-netdev', netdev, '-device', 'virtio-net-pci,netdev=net0')
  }
  return args
}

export interface QemuExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** What QEMU itself said (bad arguments, KVM errors); the guest's console is separate. */
  stderr: string
  timedOut: boolean
}

export interface RunningQemu {
  readonly startedAt: number
  /** Called with each chunk of serial console text, `\r` removed. */
  onConsole(listener: (text: string) => void): void
  readonly exited: Promise<QemuExit>
  /** Kill QEMU now; safe to call more than once. */
  stop(): void
}

export function launchQemu(launch: QemuLaunch): RunningQemu {
  const child = spawn(launch.qemu, qemuArguments(launch), { stdio: ['ignore', 'pipe', 'pipe'] })
  const startedAt = Date.now()
  track(child)
  const listeners: Array<(text: string) => void> = []
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    const text = chunk.replace(/\r/g, '')
    for (const listener of listeners) listener(text)
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    kill(child)
  }, launch.timeoutMs)
  const exited = new Promise<QemuExit>((resolve) => {
    let settled = false
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      untrack(child)
      resolve({ code, signal, stderr: stderr.trim(), timedOut })
    }
    child.on('error', (error) => {
      stderr += `${error.message}\n`
      finish(null, null)
    })
    // 'close' (not 'exit') so the last console bytes have been delivered.
    child.on('close', finish)
  })
  return {
    startedAt,
    onConsole: (listener) => void listeners.push(listener),
    exited,
    stop: () => kill(child)
  }
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

// QEMU must not outlive us: kill every VM still running when this process exits or is signalled.
const running = new Set<ChildProcess>()
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

function killAll(): void {
  for (const child of running) kill(child)
}

function onSignal(signal: NodeJS.Signals): void {
  killAll()
  // When nobody else handles the signal, die of it as we would have without this hook.
  if (process.listenerCount(signal) === 1) {
    removeHooks()
    process.kill(process.pid, signal)
  }
}

function addHooks(): void {
  process.on('exit', killAll)
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal)
}

function removeHooks(): void {
  process.removeListener('exit', killAll)
  for (const signal of FORWARDED_SIGNALS) process.removeListener(signal, onSignal)
}

function track(child: ChildProcess): void {
  if (running.size === 0) addHooks()
  running.add(child)
}

function untrack(child: ChildProcess): void {
  running.delete(child)
  if (running.size === 0) removeHooks()
}
