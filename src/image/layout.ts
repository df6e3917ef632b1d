/** What every image gets before the author's mappings (fledge's layout). */
export const FHS_DIRS = [
  '/bin',
  '/sbin',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/tmp',
  '/run',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/var/log'
]

export const BUSYBOX_APPLETS = [
  'sh', 'ash', 'ls', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'rmdir', 'ln', 'chmod', 'chown', 'ps',
  'kill', 'mount', 'umount', 'grep', 'sed', 'awk', 'find', 'test', 'echo', 'printf', 'true',
  'false', 'sleep', 'pwd', 'cd', 'env', 'which', 'tar', 'gzip', 'gunzip', 'wget', 'vi'
]

/** Kernels with a built-in initramfs do not create these; init needs a console. */
export const DEVICE_NODES = [
  { path: '/dev/console', mode: 0o600, major: 5, minor: 1 },
  { path: '/dev/null', mode: 0o666, major: 1, minor: 3 }
]

export const BUSYBOX_PATH = '/bin/busybox'
export const AGENT_PATH = '/bin/kestrel'
export const INIT_PATH = '/init'
/** fledge's C init reads the custom init's in-image path from this file. */
export const CUSTOM_INIT_POINTER = '/.volant_init'
