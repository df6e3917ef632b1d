/**
 * The image's share of a cold start, read from the kernel's own log on the serial console:
 *
 *   `Unpacking initramfs...` (or `Trying to unpack rootfs image as initramfs...` on kernels with
 *   BLK_DEV_RAM) → `Freeing initrd memory` = unpack; kernel start → `Run /init as init process`;
 *   `Run /init` → the first line from user space (our C init prints nothing when it works, so
 *   that is the agent's first line).
 *
 * All three kernel lines are KERN_INFO (init/initramfs.c, init/main.c, mm/page_alloc.c on 6.1),
 * and volantd's `quiet loglevel=1` prints only KERN_EMERG: the boot test appends
 * BOOT_COST_PARAMETERS to make them print, stamped. `ignore_loglevel` or `initcall_debug` would
 * add KERN_DEBUG lines as well (more console output, no extra information).
 */

/**
 * Appended after volantd's command line (the last `loglevel` wins). Each only changes what the
 * kernel prints, or when it unpacks:
 * - `printk.time=1`: every kernel line starts with its timestamp (`[    0.552138]`), which
 *   under `-icount` counts guest instructions (1 ns each), and tells kernel lines from the
 *   agent's;
 * - `loglevel=7`: prints the KERN_INFO lines above (about 20 KB of log on Debian's kernel, a
 *   few KB on Volant-like ones);
 * - `initramfs_async=0`: the kernel unpacks the initramfs while the other initcalls wait. By
 *   default (5.13+) it unpacks in an async worker that, on one vCPU, shares the CPU with the
 *   rest of the initcalls: the window between the two lines then holds their work too (about
 *   10% of it for a 1 MB image on Debian's kernel) and moves from boot to boot. Synchronous,
 *   the window holds the unpack alone, nothing else prints inside it, and under -icount it
 *   repeats to the microsecond.
 */
export const BOOT_COST_PARAMETERS = ['printk.time=1', 'loglevel=7', 'initramfs_async=0'] as const

const UNPACK_START = /Unpacking initramfs\.\.\.|Trying to unpack rootfs image as initramfs\.\.\./
const UNPACK_END = /Freeing initrd memory/
const RUN_INIT = /Run \/init as init process/
/** `[    1.234567] ` with printk.time=1, `[    1.234567][    T1] ` with PRINTK_CALLER. */
const KERNEL_STAMP = /^\[\s*(\d+)\.(\d{6})\](?:\[\s*[TC]\d+\])? /

/** A console line and when its end reached the host, in ms since QEMU's launch. */
export interface ConsoleLine {
  text: string
  atMs: number
}

/** What the kernel spent on the image and the hand-over, in ms. */
export interface BootCost {
  /** Host clock: the two unpack lines' arrival. */
  unpackMs: number
  /** Host clock: QEMU launch → `Run /init` (firmware, kernel start-up, unpack). */
  launchToInitMs: number
  /** Host clock: `Run /init` → the first line from user space; absent when none came. */
  initToAgentMs?: number
  /** That first line from user space. */
  agentLine?: string
  /** With -icount: the kernel's own timestamps, in virtual ms (1 ns per guest instruction). */
  virtual?: {
    unpackMs: number
    /** Kernel start (timestamp 0) → `Run /init`. */
    startToInitMs: number
  }
}

export type BootCostReading = { cost: BootCost } | { missing: string }

/**
 * Reads the boot cost from a console log. Any of the kernel's lines missing, or printed without
 * a timestamp (printk.time=1 not in force), gives a reason instead of numbers: never a zero.
 */
export function readBootCost(lines: readonly ConsoleLine[], icount: boolean): BootCostReading {
  const start = findKernelLine(lines, UNPACK_START, 0)
  if (typeof start === 'string') {
    return { missing: `${start} "Unpacking initramfs..." (or "Trying to unpack rootfs image as initramfs...")` }
  }
  const end = findKernelLine(lines, UNPACK_END, start.index + 1)
  if (typeof end === 'string') return { missing: `${end} "Freeing initrd memory"` }
  const init = findKernelLine(lines, RUN_INIT, end.index + 1)
  if (typeof init === 'string') return { missing: `${init} "Run /init as init process"` }
  const cost: BootCost = {
    unpackMs: round(end.line.atMs - start.line.atMs),
    launchToInitMs: round(init.line.atMs)
  }
  const agent = lines.slice(init.index + 1).find((line) => line.text.trim() !== '' && !KERNEL_STAMP.test(line.text))
  if (agent) {
    cost.initToAgentMs = round(agent.atMs - init.line.atMs)
    cost.agentLine = agent.text.trim()
  }
  if (icount) {
    cost.virtual = {
      unpackMs: round((end.stampUs - start.stampUs) / 1000),
      startToInitMs: round(init.stampUs / 1000)
    }
  }
  return { cost }
}

interface KernelLine {
  index: number
  line: ConsoleLine
  /** The printk timestamp, µs. */
  stampUs: number
}

function findKernelLine(lines: readonly ConsoleLine[], pattern: RegExp, from: number): KernelLine | string {
  for (let index = from; index < lines.length; index++) {
    const line = lines[index] as ConsoleLine
    if (!pattern.test(line.text)) continue
    const stamp = KERNEL_STAMP.exec(line.text)
    if (!stamp) return 'the kernel printed without a timestamp (printk.time=1 not in force):'
    return { index, line, stampUs: Number(stamp[1]) * 1e6 + Number(stamp[2]) }
  }
  return 'the console never showed'
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * Collects whole console lines with their arrival time, up to the first line from user space
 * after `Run /init` (nothing later is needed), and at most MAX_LINES of them.
 */
export class ConsoleLineClock {
  private readonly lines: ConsoleLine[] = []
  private partial = ''
  private partialAt = 0
  private done = false
  private sawInit = false
  private static readonly MAX_LINES = 20_000

  append(text: string, atMs: number): void {
    if (this.done) return
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() ?? ''
    this.partialAt = atMs
    for (const part of parts) {
      this.lines.push({ text: part, atMs })
      if (RUN_INIT.test(part)) this.sawInit = true
      else if (this.sawInit && part.trim() !== '' && !KERNEL_STAMP.test(part)) this.done = true
      if (this.done || this.lines.length >= ConsoleLineClock.MAX_LINES) {
        this.done = true
        return
      }
    }
  }

  /**
   * The last line counts even without its newline: a boot that stops at the marker
   * (`Run /init`, settle 0) kills QEMU before the guest has printed the rest.
   */
  read(icount: boolean): BootCostReading {
    const lines = this.partial && !this.done ? [...this.lines, { text: this.partial, atMs: this.partialAt }] : this.lines
    return readBootCost(lines, icount)
  }
}

/** "unpack 80 ms, start → /init 1597 ms (virtual); unpack 95 ms, /init → agent 1410 ms (wall)". */
export function describeBootCost(cost: BootCost): string {
  const ms = (value: number) => `${Math.round(value)} ms`
  const wall = [`unpack ${ms(cost.unpackMs)}`, `launch → /init ${ms(cost.launchToInitMs)}`]
  if (cost.initToAgentMs !== undefined) wall.push(`/init → agent ${ms(cost.initToAgentMs)}`)
  const parts = [`${wall.join(', ')} (wall)`]
  if (cost.virtual) {
    parts.unshift(
      `unpack ${ms(cost.virtual.unpackMs)}, kernel start → /init ${ms(cost.virtual.startToInitMs)} (virtual)`
    )
  }
  return parts.join('; ')
}
