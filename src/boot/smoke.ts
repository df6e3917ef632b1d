/**
 * Boot smoke test: run the built initramfs under QEMU with the command line
 * volantd would give it, and judge it by its serial console (and, in health
 * mode, by an HTTP 200 from the guest).
 *
 * What "booted" means by default: our images start with the C init, which
 * prints nothing when it succeeds, and then the agent, whose log lines are not
 * ours to rely on. So the default marker is the kernel's own
 * "Run /init as init process" (the kernel found /init and is handing over to
 * it), followed by a quiet window (`settleMs`, default 3 s) with no failure
 * marker: an init that cannot be executed, exits, or panics shows up within
 * that window. A caller that knows what its image prints passes `expect`, and
 * the test passes as soon as that text appears.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { detectAccelerator } from './accel.js'
import { buildCommandLine, QEMU_USER_NETWORK, type CommandLineOptions } from './cmdline.js'
import { ConsoleLog } from './console.js'
import { freeLoopbackPort, httpStatus } from './http-probe.js'
import { resolveKernel } from './kernel.js'
import { findQemu, launchQemu, type Accelerator, type QemuExit, type RunningQemu } from './qemu.js'

export const DEFAULT_EXPECT = 'Run /init as init process'
export const DEFAULT_SETTLE_MS = 3000
export const DEFAULT_TIMEOUT_SECONDS = 60
/** Console text that means the image is broken, whatever else it printed. */
export const FAILURE_MARKERS = [
  'Kernel panic',
  'INIT PANIC',
  'Attempted to kill init',
  // The kernel then falls back to /sbin/init, /bin/sh…: a busybox image would sit at a shell.
  'Failed to execute /init',
  // Printed long before the panic it leads to, and far more telling than that panic.
  'Initramfs unpacking failed'
] as const
const CONSOLE_TAIL_LINES = 40
/** After a failure marker, time for the panic to finish printing before we stop the VM. */
const FAILURE_GRACE_MS = 2000
const HEALTH_POLL_INTERVAL_MS = 250
const HEALTH_REQUEST_TIMEOUT_MS = 2000
/**
 * A stand-in for volantd's API port: the test VM cannot reach the host
 * (restrict=on); the agent only needs a well-formed value.
 */
const TEST_API_PORT = 7777

export interface HealthCheck {
  guestPort: number
  /** Path polled on the guest, e.g. "/healthz". */
  endpoint: string
  /** Budget for the first HTTP 200, counted from QEMU's launch (so it includes the kernel's boot). */
  timeoutMs: number
}

export interface BootOptions {
  /** The plugin.cpio.gz to boot. */
  archive: string
  /** Path of the kernel (see resolveKernel). */
  kernel: string
  /** Console text that means success; default: see the module comment. In health mode it is only timed. */
  expect?: string
  /** QEMU is killed after this long, pass or fail; default 60. */
  timeoutSeconds?: number
  /** Manifest JSON text, passed as volantd does (volant.manifest=…). */
  manifest?: string
  health?: HealthCheck
  log: Logger
  /** Quiet time required after the marker; default 3 s with the default marker, 0 with `expect`. */
  settleMs?: number
  memoryMb?: number
}

export interface BootResult {
  ok: boolean
  reason?: string
  /** QEMU launch → marker on the console. */
  markerMs?: number
  /** QEMU launch → first HTTP 200. */
  healthMs?: number
  consoleTail: string
  accel: Accelerator
}

interface Plan {
  expect: string
  settleMs: number
  timeoutSeconds: number
  health?: HealthCheck
}

interface Outcome {
  ok: boolean
  reason?: string
  /** Where the first failure marker starts in the console. */
  failureAt?: number
  markerMs?: number
  healthMs?: number
}

export async function bootImage(options: BootOptions): Promise<BootResult> {
  const { log } = options
  const archive = path.resolve(options.archive)
  assertReadableArchive(archive)
  const kernel = resolveKernel(options.kernel)
  // Refused here, before anything is launched.
  const append = buildCommandLine(commandLineOptions(options.manifest))
  const qemu = await findQemu(log)
  const accel = await detectAccelerator({ qemu, kernel, log })
  const plan: Plan = {
    expect: options.expect ?? DEFAULT_EXPECT,
    settleMs: options.settleMs ?? (options.expect === undefined ? DEFAULT_SETTLE_MS : 0),
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    ...(options.health ? { health: options.health } : {})
  }
  log.info(
    `boot test: ${archive} with ${kernel} (${accel === 'kvm' ? 'KVM' : 'software emulation'})`
  )
  log.debug(`kernel command line (${Buffer.byteLength(append)} bytes): ${append}`)

  for (let attempt = 1; ; attempt++) {
    const hostPort = plan.health ? await freeLoopbackPort() : undefined
    const vm = launchQemu({
      qemu,
      kernel,
      initrd: archive,
      append,
      accel,
      timeoutMs: plan.timeoutSeconds * 1000,
      network:
        hostPort !== undefined && plan.health
          ? { forward: { hostPort, guestPort: plan.health.guestPort } }
          : {},
      ...(options.memoryMb !== undefined ? { memoryMb: options.memoryMb } : {})
    })
    const consoleLog = new ConsoleLog()
    const outcome = await watch(vm, consoleLog, plan, hostPort)
    vm.stop()
    const exit = await vm.exited
    // Another process took the port between our check and QEMU's bind: try a new one.
    if (!outcome.ok && /host forwarding rule/i.test(exit.stderr) && attempt < 3) continue
    return report(outcome, consoleLog, accel, log)
  }
}

function assertReadableArchive(archive: string): void {
  try {
    fs.accessSync(archive, fs.constants.R_OK)
  } catch {
    throw new FledgeError(`cannot boot ${archive}: the file does not exist or cannot be read.`, {
      fix: 'build the image first, or pass the path of an existing .cpio.gz.'
    })
  }
}

function commandLineOptions(manifest: string | undefined): CommandLineOptions {
  const options: CommandLineOptions = {
    network: QEMU_USER_NETWORK,
    apiHost: QEMU_USER_NETWORK.gateway,
    apiPort: TEST_API_PORT
  }
  if (manifest === undefined) return options
  let parsed: unknown
  try {
    parsed = JSON.parse(manifest)
  } catch (error) {
    throw new FledgeError(
      `the manifest given to the boot test is not JSON (${(error as Error).message}).`,
      {
        fix: 'pass the text of the generated manifest JSON file.'
      }
    )
  }
  options.manifestJson = manifest
  const fields =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
  const name = typeof fields['name'] === 'string' ? fields['name'] : undefined
  // volantd defaults the runtime to the plugin's name.
  const runtime = typeof fields['runtime'] === 'string' ? fields['runtime'] : name
  if (name) options.plugin = name
  if (runtime) options.runtime = runtime
  return options
}

function watch(
  vm: RunningQemu,
  consoleLog: ConsoleLog,
  plan: Plan,
  hostPort: number | undefined
): Promise<Outcome> {
  const longestMarker = Math.max(plan.expect.length, ...FAILURE_MARKERS.map((m) => m.length))
  const url =
    hostPort === undefined ? '' : `http://127.0.0.1:${hostPort}${plan.health?.endpoint ?? '/'}`
  return new Promise((resolve) => {
    let done = false
    let markerMs: number | undefined
    let failureAt: number | undefined
    let lastAnswer: number | string = 'none yet'
    const timers: NodeJS.Timeout[] = []
    const finish = (outcome: Outcome): void => {
      if (done) return
      done = true
      for (const timer of timers) clearTimeout(timer)
      resolve(markerMs === undefined ? outcome : { markerMs, ...outcome })
    }

    vm.onConsole((text) => {
      const from = Math.max(0, consoleLog.length - longestMarker)
      consoleLog.append(text)
      if (done || failureAt !== undefined) return
      failureAt = consoleLog.find(FAILURE_MARKERS, from)
      if (failureAt !== undefined) {
        const at = failureAt
        // panic=-1 ends the VM in a moment; wait for that so the whole panic is in the log.
        timers.push(setTimeout(() => finish({ ok: false, failureAt: at }), FAILURE_GRACE_MS))
        return
      }
      if (markerMs === undefined && consoleLog.find([plan.expect], from) !== undefined) {
        markerMs = Date.now() - vm.startedAt
        if (plan.health) return
        if (plan.settleMs === 0) finish({ ok: true })
        else timers.push(setTimeout(() => finish({ ok: true }), plan.settleMs))
      }
    })

    void vm.exited.then((exit) => {
      if (failureAt !== undefined) finish({ ok: false, failureAt })
      // A clean power-off after the marker is a pass (our test images do exactly that).
      else if (!plan.health && markerMs !== undefined) finish({ ok: true })
      else finish({ ok: false, reason: exitReason(exit, plan, url, lastAnswer) })
    })

    const health = plan.health
    if (!health) return
    const deadline = vm.startedAt + health.timeoutMs
    const poll = async (): Promise<void> => {
      while (!done) {
        const remaining = deadline - Date.now()
        if (remaining <= 0) {
          finish({
            ok: false,
            reason: `no HTTP 200 from ${url} within ${health.timeoutMs} ms of launch (last answer: ${describe(lastAnswer, health)})`
          })
          return
        }
        const budget = Math.min(HEALTH_REQUEST_TIMEOUT_MS, remaining)
        const answer = await httpStatus(url, budget)
        if (answer === 200) {
          finish({ ok: true, healthMs: Date.now() - vm.startedAt })
          return
        }
        // A request cut short by the deadline says nothing; keep the answer before it.
        if (!(answer === 'timeout' && budget < HEALTH_REQUEST_TIMEOUT_MS)) lastAnswer = answer
        await new Promise((wake) => setTimeout(wake, HEALTH_POLL_INTERVAL_MS))
      }
    }
    void poll()
  })
}

function describe(answer: number | string, health: HealthCheck): string {
  if (typeof answer === 'number') return `HTTP ${answer}`
  // QEMU accepts on the host side, then passes on the guest's refusal as a reset.
  if (answer === 'ECONNRESET')
    return `connection reset: nothing in the guest accepted it on port ${health.guestPort}`
  return answer
}

function exitReason(exit: QemuExit, plan: Plan, url: string, lastAnswer: number | string): string {
  const waitingFor = plan.health
    ? `an HTTP 200 from ${url} (last answer: ${describe(lastAnswer, plan.health)})`
    : `"${plan.expect}" on the console`
  if (exit.timedOut) return `no ${waitingFor} within the ${plan.timeoutSeconds} s boot timeout`
  const qemuSaid = exit.code !== 0 && exit.stderr ? `; QEMU said: ${exit.stderr}` : ''
  return `the VM stopped before ${waitingFor}${qemuSaid}`
}

function report(
  outcome: Outcome,
  consoleLog: ConsoleLog,
  accel: Accelerator,
  log: Logger
): BootResult {
  const { markerMs, healthMs, failureAt } = outcome
  const result: BootResult = {
    ok: outcome.ok,
    consoleTail: consoleLog.tail(CONSOLE_TAIL_LINES),
    accel,
    ...(markerMs !== undefined ? { markerMs } : {}),
    ...(healthMs !== undefined ? { healthMs } : {})
  }
  if (outcome.ok) {
    const times = [
      markerMs !== undefined ? `marker after ${markerMs} ms` : '',
      healthMs !== undefined ? `HTTP 200 after ${healthMs} ms` : ''
    ].filter(Boolean)
    log.info(`boot test passed (${accel}): ${times.join(', ')}`)
    return result
  }
  // A panic's own dump fills the tail; the lines before it say what went wrong.
  result.reason =
    failureAt === undefined
      ? `${outcome.reason ?? 'boot test failed'}. Console, last ${CONSOLE_TAIL_LINES} lines:\n` +
        result.consoleTail
      : `the guest failed: "${consoleLog.lineAt(failureAt)}". ` +
        `Console, last ${CONSOLE_TAIL_LINES} lines up to the failure:\n` +
        consoleLog.tail(CONSOLE_TAIL_LINES, failureAt)
  return result
}
