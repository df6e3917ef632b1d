/**
 * Boot smoke test: run the built initramfs under QEMU with the command line
 * volantd would give it, and judge it by its serial console (and, in health
 * mode, by what volantd judges readiness by).
 *
 * What "booted" means by default: our images start with the C init, which
 * prints nothing when it succeeds, and then the agent, whose log lines are not
 * ours to rely on. So the default marker is the kernel's own
 * "Run /init as init process" (the kernel found /init and is handing over to
 * it), followed by a quiet window (`settleMs`, default 3 s) with no failure
 * marker: an init that cannot be executed, exits, or panics shows up within
 * that window. A caller that knows what its image prints passes `expect`, and
 * the test passes as soon as that text appears.
 *
 * The command line is volantd's, byte for byte, followed by BOOT_COST_PARAMETERS (boot/cost.ts):
 * `printk.time=1 loglevel=7 initramfs_async=0`. volantd's `quiet loglevel=1` hides the kernel's
 * own lines (the hand-over line the default marker is, and the unpack lines the boot cost is
 * read from); the later `loglevel=7` prints them, stamped. None of the three changes what the
 * guest does, only what the kernel prints and that it unpacks the image before the initcalls
 * after it rather than beside them (see BOOT_COST_PARAMETERS). The price is the printing: the
 * kernel log up to /init is 21 KB on Debian's cloud kernel, 15 KB on the Volant-like test kernel.
 *
 * Health mode judges what volantd judges. In an image whose init starts kestrel (it has
 * /bin/kestrel), ready means kestrel's `GET /healthz` on guest port 8080 answers 200, which
 * kestrel serves only after the workload's own health check passed; the workload's URL is
 * polled too, to report when it became healthy. A workload answering is not readiness: it
 * answers earlier, and it keeps answering after kestrel has died. Images without kestrel
 * (custom or none init) are judged by the workload's URL alone.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { readArchive } from '../archive/read.js'
import { FledgeError } from '../errors.js'
import type { Logger } from '../log.js'
import { detectAccelerator } from './accel.js'
import { assertCommandLineFits, buildCommandLine, QEMU_USER_NETWORK, type CommandLineOptions } from './cmdline.js'
import { COMMAND_LINE_LIMIT, commandLineFits } from '../manifest/cmdline.js'
import { ConsoleLog } from './console.js'
import { BOOT_COST_PARAMETERS, ConsoleLineClock, describeBootCost, type BootCost } from './cost.js'
import { freeLoopbackPort, httpGet, type HttpAnswer } from './http-probe.js'
import { resolveKernel } from './kernel.js'
import {
  findQemu,
  launchQemu,
  type Accelerator,
  type PortForward,
  type QemuExit,
  type RunningQemu
} from './qemu.js'

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
  'Initramfs unpacking failed',
  // kestrel's last words: it halts and the VM keeps running, so nothing else would end the test.
  'fatal error in pid1',
  'pid1 cannot exit; halting'
] as const
/**
 * kestrel's workload probe on a guest with no network. kestrel configures none (not even lo):
 * it relies on the kernel's `ip=` autoconfiguration, which needs IP_PNP and a built-in NIC driver.
 */
const NO_GUEST_NETWORK_MARKER = 'network is unreachable'
export const NO_GUEST_NETWORK_REASON =
  "the guest has no network: kestrel configures none and relies on the kernel's ip= " +
  'autoconfiguration, but this kernel lacks CONFIG_IP_PNP or a built-in virtio-net driver ' +
  "(distribution kernels such as Debian's cloud kernel have neither). Boot with Volant's kernel " +
  "(the Action's default: the bzImage of the agent's volantvm/volant release) or one built with " +
  'IP_PNP=y and VIRTIO_NET=y (scripts/build-test-kernel.sh)'
/** volantd talks to kestrel at http://<vm>:8080 (agentDefaultPort); kestrel listens on :8080. */
export const AGENT_PORT = 8080
const AGENT_READY_PATH = '/healthz'
const AGENT_PATH_IN_IMAGE = 'bin/kestrel'
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
  /** The workload's port in the guest (from workload.base_url). */
  guestPort: number
  /** The workload's health path, e.g. "/healthz" (health_check.endpoint). */
  endpoint: string
  /** Budget for readiness, counted from QEMU's launch (so it includes the kernel's boot). */
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
  cpus?: number
  /** The VM's name, which volantd puts in `ip=` as the hostname; default: the plugin's name. */
  vmName?: string
  /** Judge readiness by kestrel's /healthz; default: whether the image has /bin/kestrel. */
  agent?: boolean
  /** Software emulation with QEMU's instruction counter: the boot cost also in virtual ms. */
  icount?: boolean
}

export interface BootResult {
  ok: boolean
  reason?: string
  /** QEMU launch → marker on the console. */
  markerMs?: number
  /** QEMU launch → ready: kestrel's /healthz 200 in agent images, else the workload's 200. */
  healthMs?: number
  /** QEMU launch → the workload's own health URL answered 200. */
  workloadMs?: number
  /** QEMU launch → kestrel's /healthz answered 200. */
  agentMs?: number
  /** The kernel command line the VM booted with. */
  cmdline: string
  consoleTail: string
  accel: Accelerator
  /** Booted with -icount: the kernel's timestamps are virtual. */
  icount: boolean
  /** The kernel's unpack and hand-over times, from its own log. */
  cost?: BootCost
  /** Why `cost` is absent (a kernel line that never showed, or showed unstamped). */
  costMissing?: string
}

interface Plan {
  expect: string
  settleMs: number
  timeoutSeconds: number
  health?: HealthCheck
  /** Readiness is kestrel's /healthz. */
  agent: boolean
}

interface Outcome {
  ok: boolean
  reason?: string
  /** Where the first failure marker starts in the console. */
  failureAt?: number
  markerMs?: number
  healthMs?: number
  workloadMs?: number
  agentMs?: number
}

/** Host ports on 127.0.0.1 forwarded to the guest's workload and agent ports. */
interface Ports {
  workload?: number
  agent?: number
}

export async function bootImage(options: BootOptions): Promise<BootResult> {
  const { log } = options
  const archive = path.resolve(options.archive)
  assertReadableArchive(archive)
  const kernel = resolveKernel(options.kernel)
  // Refused here, before anything is launched.
  const volantdLine = buildCommandLine(commandLineOptions(options.manifest, options.vmName))
  const measuredLine = `${volantdLine} ${BOOT_COST_PARAMETERS.join(' ')}`
  // A manifest that leaves volantd's line just short of the limit still boots, unmeasured;
  // the default marker still needs the kernel's hand-over line printed.
  const measurable = commandLineFits(measuredLine)
  const unmeasuredLine = options.expect === undefined && !options.health ? `${volantdLine} loglevel=7` : volantdLine
  if (!measurable) assertCommandLineFits(unmeasuredLine)
  const append = measurable ? measuredLine : unmeasuredLine
  const qemu = await findQemu(log)
  const icount = options.icount === true
  // The instruction counter is TCG's: under KVM the guest runs on the real CPU.
  const accel: Accelerator = icount ? 'tcg' : await detectAccelerator({ qemu, kernel, log })
  const plan: Plan = {
    expect: options.expect ?? DEFAULT_EXPECT,
    settleMs: options.settleMs ?? (options.expect === undefined ? DEFAULT_SETTLE_MS : 0),
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    ...(options.health ? { health: options.health } : {}),
    agent: options.health !== undefined && (options.agent ?? (await hasAgent(archive)))
  }
  log.info(
    `boot test: ${archive} with ${kernel} (${accel === 'kvm' ? 'KVM' : icount ? 'software emulation, instruction-counted' : 'software emulation'})`
  )
  if (plan.health) log.info(`boot test: ${describePlan(plan, plan.health)}`)
  log.debug(`kernel command line (${Buffer.byteLength(append)} bytes): ${append}`)

  for (let attempt = 1; ; attempt++) {
    const { ports, forwards } = await forwardedPorts(plan)
    const vm = launchQemu({
      qemu,
      kernel,
      initrd: archive,
      append,
      accel,
      timeoutMs: plan.timeoutSeconds * 1000,
      network: { forwards },
      icount,
      ...(options.memoryMb !== undefined ? { memoryMb: options.memoryMb } : {}),
      ...(options.cpus !== undefined ? { cpus: options.cpus } : {})
    })
    const consoleLog = new ConsoleLog()
    const lineClock = new ConsoleLineClock()
    vm.onConsole((text) => lineClock.append(text, Date.now() - vm.startedAt))
    const outcome = await watch(vm, consoleLog, plan, ports)
    vm.stop()
    const exit = await vm.exited
    // Another process took a port between our check and QEMU's bind: try new ones.
    if (!outcome.ok && /host forwarding rule/i.test(exit.stderr) && attempt < 3) continue
    const result = report(outcome, consoleLog, accel, append, log)
    result.icount = icount
    const reading = measurable
      ? lineClock.read(icount)
      : {
          missing: `volantd's command line leaves no room for ${BOOT_COST_PARAMETERS.join(' ')} within the kernel's ${COMMAND_LINE_LIMIT - 1} bytes`
        }
    if ('cost' in reading) {
      result.cost = reading.cost
      log.info(`boot cost: ${describeBootCost(reading.cost)}`)
    } else {
      result.costMissing = reading.missing
      log.info(`boot cost not measured: ${reading.missing}`)
    }
    return result
  }
}

function describePlan(plan: Plan, health: HealthCheck): string {
  const workload = `the workload's ${health.endpoint} on guest port ${health.guestPort}`
  return plan.agent
    ? `ready when kestrel's ${AGENT_READY_PATH} on guest port ${AGENT_PORT} answers 200 (it does after ${workload} does)`
    : `ready when ${workload} answers 200 (the image has no /bin/kestrel)`
}

async function forwardedPorts(plan: Plan): Promise<{ ports: Ports; forwards: PortForward[] }> {
  const ports: Ports = {}
  const forwards: PortForward[] = []
  if (!plan.health) return { ports, forwards }
  ports.workload = await freeLoopbackPort()
  forwards.push({ hostPort: ports.workload, guestPort: plan.health.guestPort })
  // With the workload on 8080 too (the clash the console then reports), one forward serves both.
  if (plan.agent && plan.health.guestPort !== AGENT_PORT) {
    ports.agent = await freeLoopbackPort()
    forwards.push({ hostPort: ports.agent, guestPort: AGENT_PORT })
  } else if (plan.agent) {
    ports.agent = ports.workload
  }
  return { ports, forwards }
}

/** Whether the image holds kestrel (our C init and Volant's exec /bin/kestrel). */
async function hasAgent(archive: string): Promise<boolean> {
  for await (const record of readArchive(archive)) {
    if (record.path.replace(/^\.?\//, '') === AGENT_PATH_IN_IMAGE) return true
  }
  return false
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

function commandLineOptions(
  manifest: string | undefined,
  vmName: string | undefined
): CommandLineOptions {
  const options: CommandLineOptions = {
    network: QEMU_USER_NETWORK,
    apiHost: QEMU_USER_NETWORK.gateway,
    apiPort: TEST_API_PORT,
    ...(vmName !== undefined ? { vmName } : {})
  }
  if (manifest === undefined) return options
  let parsed: unknown
  try {
    parsed = JSON.parse(manifest.replace(/^\uFEFF/, ''))
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
  const name = typeof fields['name'] === 'string' ? fields['name'].trim() : ''
  // volantd defaults the runtime to the plugin's name.
  const runtime = (typeof fields['runtime'] === 'string' ? fields['runtime'].trim() : '') || name
  if (name) options.plugin = name
  if (runtime) options.runtime = runtime
  if (vmName === undefined && name) options.vmName = name
  return options
}

function watch(
  vm: RunningQemu,
  consoleLog: ConsoleLog,
  plan: Plan,
  ports: Ports
): Promise<Outcome> {
  const markers = [...FAILURE_MARKERS, NO_GUEST_NETWORK_MARKER]
  const longestMarker = Math.max(plan.expect.length, ...markers.map((m) => m.length))
  const health = plan.health
  const workloadUrl =
    ports.workload === undefined
      ? ''
      : `http://127.0.0.1:${ports.workload}${health?.endpoint ?? '/'}`
  const agentUrl =
    ports.agent === undefined ? '' : `http://127.0.0.1:${ports.agent}${AGENT_READY_PATH}`
  return new Promise((resolve) => {
    let done = false
    let markerMs: number | undefined
    let workloadMs: number | undefined
    let failureAt: number | undefined
    let lastWorkloadAnswer: HttpAnswer | string = 'none yet'
    let lastAgentAnswer: HttpAnswer | string = 'none yet'
    const timers: NodeJS.Timeout[] = []
    const finish = (outcome: Outcome): void => {
      if (done) return
      done = true
      for (const timer of timers) clearTimeout(timer)
      resolve({
        ...(markerMs !== undefined ? { markerMs } : {}),
        ...(workloadMs !== undefined ? { workloadMs } : {}),
        ...outcome
      })
    }

    vm.onConsole((text) => {
      const from = Math.max(0, consoleLog.length - longestMarker)
      consoleLog.append(text)
      if (done || failureAt !== undefined) return
      const noNetworkAt = consoleLog.find([NO_GUEST_NETWORK_MARKER], from)
      if (noNetworkAt !== undefined) {
        finish({ ok: false, failureAt: noNetworkAt, reason: NO_GUEST_NETWORK_REASON })
        return
      }
      failureAt = consoleLog.find(FAILURE_MARKERS, from)
      if (failureAt !== undefined) {
        const at = failureAt
        // panic=1 ends the VM in a moment; wait for that so the whole panic is in the log.
        timers.push(setTimeout(() => finish({ ok: false, failureAt: at }), FAILURE_GRACE_MS))
        return
      }
      if (markerMs === undefined && consoleLog.find([plan.expect], from) !== undefined) {
        markerMs = Date.now() - vm.startedAt
        if (health) return
        if (plan.settleMs === 0) finish({ ok: true })
        else timers.push(setTimeout(() => finish({ ok: true }), plan.settleMs))
      }
    })

    void vm.exited.then((exit) => {
      if (failureAt !== undefined) finish({ ok: false, failureAt })
      // A clean power-off after the marker is a pass (our test images do exactly that).
      else if (!health && markerMs !== undefined) finish({ ok: true })
      else finish({ ok: false, reason: exitReason(exit, plan, waitingFor()) })
    })

    if (!health) return
    const deadline = vm.startedAt + health.timeoutMs
    function waitingFor(): string {
      const workload = `${workloadUrl} (last answer: ${describe(lastWorkloadAnswer, health?.guestPort ?? 0)})`
      if (!plan.agent) return `HTTP 200 from ${workload}`
      const agent = `kestrel's ${AGENT_READY_PATH} on guest port ${AGENT_PORT}, ${agentUrl} (last answer: ${describe(lastAgentAnswer, AGENT_PORT)})`
      const workloadState =
        workloadMs === undefined
          ? `the workload never answered 200 at ${workload}`
          : `the workload was healthy at ${workloadMs} ms`
      return `HTTP 200 from ${agent}; ${workloadState}`
    }
    const probe = async (url: string): Promise<HttpAnswer | string | undefined> => {
      const budget = Math.min(HEALTH_REQUEST_TIMEOUT_MS, deadline - Date.now())
      const answer = await httpGet(url, budget)
      // A request cut short by the deadline says nothing; keep the answer before it.
      return answer === 'timeout' && budget < HEALTH_REQUEST_TIMEOUT_MS ? undefined : answer
    }
    const poll = async (): Promise<void> => {
      while (!done) {
        if (Date.now() >= deadline) {
          finish({
            ok: false,
            reason: `no ${waitingFor()} within ${health.timeoutMs} ms of launch`
          })
          return
        }
        if (workloadMs === undefined) {
          const answer = await probe(workloadUrl)
          if (answer !== undefined) lastWorkloadAnswer = answer
          if (isOk(answer)) workloadMs = Date.now() - vm.startedAt
        }
        if (done) return
        if (!plan.agent && workloadMs !== undefined) {
          finish({ ok: true, healthMs: workloadMs })
          return
        }
        if (plan.agent) {
          const answer = await probe(agentUrl)
          if (answer !== undefined) lastAgentAnswer = answer
          // kestrel's answer, not a workload's that happens to hold the port: {"status":"ok",…}.
          if (isOk(answer) && isAgentHealth(answer)) {
            const agentMs = Date.now() - vm.startedAt
            finish({ ok: true, healthMs: agentMs, agentMs })
            return
          }
        }
        await new Promise((wake) => setTimeout(wake, HEALTH_POLL_INTERVAL_MS))
      }
    }
    void poll()
  })
}

function isOk(answer: HttpAnswer | string | undefined): answer is HttpAnswer {
  return typeof answer === 'object' && answer.status === 200
}

function isAgentHealth(answer: HttpAnswer): boolean {
  try {
    const body = JSON.parse(answer.body) as { status?: unknown }
    return body.status === 'ok'
  } catch {
    return false
  }
}

function describe(answer: HttpAnswer | string, guestPort: number): string {
  if (typeof answer === 'object') return `HTTP ${answer.status}`
  // QEMU accepts on the host side, then passes on the guest's refusal as a reset.
  if (answer === 'ECONNRESET')
    return `connection reset: nothing in the guest accepted it on port ${guestPort}`
  return answer
}

function exitReason(exit: QemuExit, plan: Plan, healthWaitingFor: string): string {
  const waitingFor = plan.health ? healthWaitingFor : `"${plan.expect}" on the console`
  if (exit.timedOut) return `no ${waitingFor} within the ${plan.timeoutSeconds} s boot timeout`
  const qemuSaid = exit.code !== 0 && exit.stderr ? `; QEMU said: ${exit.stderr}` : ''
  return `the VM stopped before ${waitingFor}${qemuSaid}`
}

/** kestrel's fatal lines, in words a plugin author can act on. */
function explainAgentFailure(line: string): string | undefined {
  if (/listen tcp [^ ]*:8080: bind: address already in use/.test(line)) {
    return (
      "the workload listens on 8080, kestrel's own port: kestrel serves volantd on guest port 8080 " +
      'once the workload is healthy, and halts when it cannot. Move the workload to another port ' +
      '(its listen address and workload.base_url)'
    )
  }
  if (/workload health check failed/.test(line)) {
    return "the workload never passed kestrel's health check (workload.base_url + health_check.endpoint)"
  }
  if (/fatal error in pid1|pid1 cannot exit/.test(line))
    return 'kestrel (the agent, PID 1) failed and halted'
  return undefined
}

function report(
  outcome: Outcome,
  consoleLog: ConsoleLog,
  accel: Accelerator,
  cmdline: string,
  log: Logger
): BootResult {
  const { markerMs, healthMs, workloadMs, agentMs, failureAt } = outcome
  const result: BootResult = {
    ok: outcome.ok,
    cmdline,
    consoleTail: consoleLog.tail(CONSOLE_TAIL_LINES),
    accel,
    icount: false,
    ...(markerMs !== undefined ? { markerMs } : {}),
    ...(healthMs !== undefined ? { healthMs } : {}),
    ...(workloadMs !== undefined ? { workloadMs } : {}),
    ...(agentMs !== undefined ? { agentMs } : {})
  }
  if (outcome.ok) {
    log.info(`boot test passed (${accel}): ${bootTimes(result).join(', ')}`)
    return result
  }
  if (failureAt === undefined) {
    result.reason =
      `${outcome.reason ?? 'boot test failed'}. Console, last ${CONSOLE_TAIL_LINES} lines:\n` +
      result.consoleTail
    return result
  }
  // A panic's own dump fills the tail; the lines before it say what went wrong.
  const line = consoleLog.lineAt(failureAt)
  const cause = outcome.reason ?? explainAgentFailure(line)
  result.reason =
    `the guest failed: "${line}"${cause ? `: ${cause}` : ''}. ` +
    `Console, last ${CONSOLE_TAIL_LINES} lines up to the failure:\n` +
    consoleLog.tail(CONSOLE_TAIL_LINES, failureAt)
  return result
}

/** What the boot test saw, in the order it happened: "marker after N ms", "agent ready at M ms". */
export function bootTimes(
  result: Pick<BootResult, 'markerMs' | 'workloadMs' | 'agentMs'>
): string[] {
  const times: string[] = []
  if (result.markerMs !== undefined) times.push(`marker after ${result.markerMs} ms`)
  if (result.workloadMs !== undefined) times.push(`workload healthy at ${result.workloadMs} ms`)
  if (result.agentMs !== undefined) times.push(`agent ready at ${result.agentMs} ms`)
  return times
}
