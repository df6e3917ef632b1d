/**
 * The boot-cost reader on real consoles, captured from this repository's boots (ms since QEMU's
 * launch, then the line): Debian's cloud kernel under -icount with the marker image, and the
 * Volant-like test kernel with the real kestrel (examples/http-server) on plain TCG.
 */
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BOOT_COST_PARAMETERS, ConsoleLineClock, describeBootCost, readBootCost, type ConsoleLine } from '../../src/boot/cost.js'

const logs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'logs')

function captured(name: string): ConsoleLine[] {
  return fs
    .readFileSync(path.join(logs, name), 'utf8')
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const match = /^ *(\d+) ?(.*)$/.exec(line)
      if (!match) throw new Error(`bad captured line: ${line}`)
      return { atMs: Number(match[1]), text: match[2] as string }
    })
}

describe('readBootCost on captured consoles', () => {
  it('Debian cloud kernel, -icount: unpack and start → /init from the kernel’s stamps, /init → first user-space line', () => {
    const reading = readBootCost(captured('debian-cloud-icount.console'), true)
    if (!('cost' in reading)) throw new Error(reading.missing)
    const { cost } = reading
    // "Trying to unpack rootfs image" (BLK_DEV_RAM=y) at 0.554569, "Freeing initrd memory" at 0.632411.
    expect(cost.virtual).toEqual({ unpackMs: 77.842, startToInitMs: 1596.778 })
    expect(cost.unpackMs).toBe(6638 - 6480)
    expect(cost.launchToInitMs).toBe(7512)
    expect(cost.agentLine).toMatch(/^cmdline: console=ttyS0 /)
    expect(cost.initToAgentMs).toBe(7645 - 7512)
  })

  it('Volant-like kernel with kestrel: "Unpacking initramfs..." and kestrel’s first line', () => {
    const reading = readBootCost(captured('volant-like-kestrel.console'), false)
    if (!('cost' in reading)) throw new Error(reading.missing)
    const { cost } = reading
    expect(cost.unpackMs).toBe(3759 - 3243)
    expect(cost.launchToInitMs).toBe(4499)
    expect(cost.agentLine).toBe('kestrel: starting main')
    expect(cost.initToAgentMs).toBe(5935 - 4499)
    // No -icount: the kernel's stamps ran on a clock that follows the host's, not virtual ms.
    expect(cost.virtual).toBeUndefined()
    expect(describeBootCost(cost)).toBe('unpack 516 ms, launch → /init 4499 ms, /init → agent 1436 ms (wall)')
  })

  it('without printk.time the same console gives a reason, not numbers', () => {
    const unstamped = captured('debian-cloud-icount.console').map((line) => ({
      ...line,
      text: line.text.replace(/^\[\s*\d+\.\d{6}\] /, '')
    }))
    const reading = readBootCost(unstamped, true)
    expect(reading).toEqual({
      missing:
        'the kernel printed without a timestamp (printk.time=1 not in force): "Unpacking initramfs..." (or "Trying to unpack rootfs image as initramfs...")'
    })
  })

  it('at volantd’s loglevel=1 (no kernel lines at all) it names the first line it missed', () => {
    const quiet = captured('volant-like-kestrel.console').filter((line) => !line.text.startsWith('['))
    expect(readBootCost(quiet, false)).toEqual({
      missing: 'the console never showed "Unpacking initramfs..." (or "Trying to unpack rootfs image as initramfs...")'
    })
    const noInit = captured('volant-like-kestrel.console').filter((line) => !line.text.includes('Run /init'))
    expect(readBootCost(noInit, false)).toEqual({ missing: 'the console never showed "Run /init as init process"' })
  })

  it('a boot that ends at /init (no user-space line yet) has no /init → agent figure', () => {
    const lines = captured('volant-like-kestrel.console')
    const init = lines.findIndex((line) => line.text.includes('Run /init'))
    const reading = readBootCost(lines.slice(0, init + 1), false)
    if (!('cost' in reading)) throw new Error(reading.missing)
    expect(reading.cost.initToAgentMs).toBeUndefined()
    expect(reading.cost.unpackMs).toBe(516)
  })
})

describe('ConsoleLineClock', () => {
  it('reads a last line that never got its newline (QEMU stopped right at the marker)', () => {
    const clock = new ConsoleLineClock()
    const text = captured('debian-cloud-icount.console')
      .map((line) => line.text)
      .join('\n')
    const cut = text.indexOf('Run /init as init process') + 'Run /init as init process'.length
    clock.append(text.slice(0, cut - 10), 1)
    clock.append(text.slice(cut - 10, cut), 2)
    const reading = clock.read(true)
    if (!('cost' in reading)) throw new Error(reading.missing)
    expect(reading.cost.virtual?.startToInitMs).toBe(1596.778)
    expect(reading.cost.launchToInitMs).toBe(2)
  })

  it('times whole lines by the chunk that ended them, and stops at the first user-space line', () => {
    const clock = new ConsoleLineClock()
    const text = captured('volant-like-kestrel.console')
      .map((line) => line.text)
      .join('\n')
    // Chunks cut mid-line, as a pipe delivers them.
    for (let at = 0, ms = 0; at < text.length; at += 97, ms++) clock.append(text.slice(at, at + 97), ms)
    const reading = clock.read(false)
    if (!('cost' in reading)) throw new Error(reading.missing)
    expect(reading.cost.agentLine).toBe('kestrel: starting main')
    const offsetOf = (needle: string) => Math.floor((text.indexOf(needle) + needle.length) / 97)
    expect(reading.cost.unpackMs).toBe(offsetOf('Freeing initrd memory: 3884K') - offsetOf('Unpacking initramfs...'))
  })
})

it('the parameters the boot test appends: stamps, a loglevel that prints KERN_INFO, synchronous unpack', () => {
  expect(BOOT_COST_PARAMETERS).toEqual(['printk.time=1', 'loglevel=7', 'initramfs_async=0'])
})
