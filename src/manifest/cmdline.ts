/**
 * volantd's fixed parameters (internal/server/orchestrator, buildKernelCmdline). `panic=1` with
 * QEMU's -no-reboot ends the VM a second after a panic; `quiet loglevel=1` hides the kernel's
 * messages, so a kernel line is only seen when a caller adds a louder loglevel after these.
 */
export const VOLANTD_BASE_PARAMETERS = [
  'console=ttyS0',
  'reboot=k',
  'panic=1',
  'quiet',
  'loglevel=1',
  'i8042.noaux',
  'i8042.nokbd',
  'pci=lastbus=0'
] as const

/**
 * x86-64 kernels cut the command line at COMMAND_LINE_SIZE (2048 bytes on many
 * builds, counting the terminating NUL); past it the guest hangs without a word.
 */
export const COMMAND_LINE_LIMIT = 2048

export function commandLineFits(cmdline: string): boolean {
  return Buffer.byteLength(cmdline, 'utf8') < COMMAND_LINE_LIMIT
}
