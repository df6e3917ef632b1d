import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { detectAccelerator, resetAcceleratorCache } from '../../src/boot/accel.js'
import { ConsoleLog } from '../../src/boot/console.js'
import { findQemu, launchQemu, qemuArguments } from '../../src/boot/qemu.js'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'

const base = {
  qemu: 'qemu-system-x86_64',
  kernel: '/k/vmlinuz',
  initrd: '/i/plugin.cpio.gz',
  append: 'console=ttyS0 panic=-1',
  timeoutMs: 1000
}

function valueAfter(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag)
  return at < 0 ? undefined : args[at + 1]
}

describe('qemuArguments', () => {
  it('boots headless, never reboots, and has no default devices (so no open NIC)', () => {
    const args = qemuArguments({ ...base, accel: 'tcg' })
    expect(args).toContain('-nodefaults')
    expect(args).toContain('-no-reboot')
    expect(valueAfter(args, '-M')).toBe('pc')
    expect(valueAfter(args, '-m')).toBe('512')
    expect(valueAfter(args, '-accel')).toBe('tcg')
    expect(valueAfter(args, '-display')).toBe('none')
    expect(valueAfter(args, '-serial')).toBe('stdio')
    expect(valueAfter(args, '-initrd')).toBe('/i/plugin.cpio.gz')
    expect(valueAfter(args, '-append')).toBe('console=ttyS0 panic=-1')
    expect(args).not.toContain('-netdev')
    expect(args).not.toContain('-cpu')
  })

  it('with icount, counts instructions (1 ns each) and skips idle time to the next timer', () => {
    expect(valueAfter(qemuArguments({ ...base, accel: 'tcg', icount: true }), '-icount')).toBe('shift=0,sleep=off')
    expect(qemuArguments({ ...base, accel: 'tcg' })).not.toContain('-icount')
  })

  it('passes the host CPU through under KVM', () => {
    expect(valueAfter(qemuArguments({ ...base, accel: 'kvm' }), '-cpu')).toBe('host')
  })

  it('gives the guest a restricted virtio NIC, forwarding one port on loopback only', () => {
    const args = qemuArguments({
      ...base,
      accel: 'tcg',
      network: { forwards: [{ hostPort: 40123, guestPort: 8080 }] }
    })
    expect(valueAfter(args, '-netdev')).toBe(
      'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40123-:8080'
    )
    expect(valueAfter(args, '-device')).toBe('virtio-net-pci,netdev=net0')
    expect(valueAfter(qemuArguments({ ...base, accel: 'tcg', network: {} }), '-netdev')).toBe(
      'user,id=net0,restrict=on'
    )
  })
})

describe('findQemu', () => {
  it('names the package to install when QEMU is missing', async () => {
    const lookup = findQemu(silentLogger, { PATH: '/nonexistent' })
    await expect(lookup).rejects.toThrow(FledgeError)
    await expect(lookup).rejects.toMatchObject({ fix: expect.stringContaining('`apt install qemu-system-x86`') })
  })
})

describe('detectAccelerator', () => {
  afterEach(() => resetAcceleratorCache())
  const probe = { qemu: '/nonexistent/qemu', kernel: '/nonexistent/vmlinuz', log: silentLogger }

  it('obeys FLEDGE_ACCEL without probing', async () => {
    await expect(detectAccelerator({ ...probe, env: { FLEDGE_ACCEL: 'kvm' } })).resolves.toBe('kvm')
    await expect(detectAccelerator({ ...probe, env: { FLEDGE_ACCEL: 'tcg' } })).resolves.toBe('tcg')
  })

  it('refuses an unknown FLEDGE_ACCEL', async () => {
    await expect(detectAccelerator({ ...probe, env: { FLEDGE_ACCEL: 'hvf' } })).rejects.toThrow(
      'FLEDGE_ACCEL=hvf is not an accelerator.'
    )
  })

  it('falls back to software emulation when a KVM boot cannot even start', async () => {
    await expect(detectAccelerator({ ...probe, env: {} })).resolves.toBe('tcg')
  })
})

// Stand-ins for qemu-system-x86_64: one that hangs (recording its pid), one that "boots".
const fakes = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-fake-qemu-'))
afterAll(() => fs.rmSync(fakes, { recursive: true, force: true }))
function fakeQemu(name: string, body: string): string {
  const file = path.join(fakes, name)
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return file
}
const pidFile = path.join(fakes, 'hanging.pid')
const hangingQemu = fakeQemu('hanging', `echo $$ > ${pidFile}\nexec sleep 60`)
const bootingQemu = fakeQemu(
  'booting',
  'echo "[ 0.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"'
)
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
function kvmAccessible(): boolean {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK)
    return true
  } catch {
    return false
  }
}

describe('launchQemu', () => {
  it('kills QEMU at its timeout and reports that it timed out', async () => {
    fs.rmSync(pidFile, { force: true })
    const vm = launchQemu({ ...base, qemu: hangingQemu, accel: 'tcg', timeoutMs: 500 })
    const exit = await vm.exited
    expect(exit.timedOut).toBe(true)
    expect(exit.signal).toBe('SIGKILL')
    expect(isRunning(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false)
  })

  it('streams the console and resolves when QEMU ends on its own', async () => {
    const vm = launchQemu({ ...base, qemu: bootingQemu, accel: 'tcg', timeoutMs: 5000 })
    let output = ''
    vm.onConsole((text) => (output += text))
    const exit = await vm.exited
    expect(exit).toMatchObject({ code: 0, timedOut: false })
    expect(output).toContain('Unable to mount root fs')
  })
})

describe('detectAccelerator probe (fake QEMU)', () => {
  afterEach(() => resetAcceleratorCache())

  it('chooses KVM only when the test boot reaches the end of the kernel init', async () => {
    const chosen = await detectAccelerator({
      qemu: bootingQemu,
      kernel: '/k/vmlinuz',
      log: silentLogger,
      env: {}
    })
    expect(chosen).toBe(kvmAccessible() ? 'kvm' : 'tcg')
  })

  it('falls back to software emulation when the test boot hangs, and kills it', async () => {
    fs.rmSync(pidFile, { force: true })
    const chosen = await detectAccelerator({
      qemu: hangingQemu,
      kernel: '/k/vmlinuz',
      log: silentLogger,
      env: {},
      probeTimeoutMs: 500
    })
    expect(chosen).toBe('tcg')
    if (fs.existsSync(pidFile)) {
      expect(isRunning(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false)
    }
  })

  it('probes once per process', async () => {
    const first = await detectAccelerator({
      qemu: bootingQemu,
      kernel: '/k',
      log: silentLogger,
      env: {}
    })
    // A hanging QEMU would now give 'tcg' after the timeout; the cached answer comes at once.
    const second = await detectAccelerator({
      qemu: hangingQemu,
      kernel: '/k',
      log: silentLogger,
      env: {}
    })
    expect(second).toBe(first)
  })
})

describe('ConsoleLog', () => {
  it('finds a marker split across chunks and returns its whole line', () => {
    const log = new ConsoleLog()
    log.append('[ 1.0] Run /init as in')
    log.append('it process\nnext line\n')
    const at = log.find(['Run /init as init process'])
    expect(at).toBe(7)
    expect(log.lineAt(at ?? -1)).toBe('[ 1.0] Run /init as init process')
    expect(log.find(['Kernel panic'])).toBeUndefined()
  })

  it('returns the first of several markers, searching from an offset', () => {
    const log = new ConsoleLog()
    log.append('a INIT PANIC x\nb Kernel panic y\n')
    expect(log.find(['Kernel panic', 'INIT PANIC'])).toBe(2)
    expect(log.find(['Kernel panic', 'INIT PANIC'], 5)).toBe(17)
  })

  it('tails the last lines, or the lines up to a point', () => {
    const log = new ConsoleLog()
    for (let i = 1; i <= 100; i++) log.append(`line ${i}\n`)
    expect(log.tail(3)).toBe('line 98\nline 99\nline 100')
    const at = log.find(['line 50\n']) ?? -1
    expect(log.tail(2, at)).toBe('line 49\nline 50')
  })
})
