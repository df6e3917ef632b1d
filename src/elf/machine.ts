/**
 * ELF e_machine codes → the architecture names authors know, plus the
 * toolchain spellings used in fix hints and the Debian multiarch library
 * folder the dynamic loader searches.
 */

const EM_SPARC = 2
const EM_386 = 3
const EM_MIPS = 8
const EM_PPC = 20
const EM_PPC64 = 21
const EM_S390 = 22
const EM_ARM = 40
const EM_SPARCV9 = 43
const EM_X86_64 = 62
const EM_AARCH64 = 183
const EM_RISCV = 243
const EM_LOONGARCH = 258

/** Class and byte order are part of the name: ppc64 and ppc64le cannot run each other's code. */
export function machineName(code: number, bits: 32 | 64, endian: 'little' | 'big'): string {
  const little = endian === 'little'
  switch (code) {
    case EM_386:
      return 'i386'
    case EM_X86_64:
      return bits === 64 ? 'x86-64' : 'x32'
    case EM_AARCH64:
      return little ? 'aarch64' : 'aarch64_be'
    case EM_ARM:
      return little ? 'arm' : 'armeb'
    case EM_RISCV:
      return bits === 64 ? 'riscv64' : 'riscv32'
    case EM_PPC64:
      return little ? 'ppc64le' : 'ppc64'
    case EM_PPC:
      return little ? 'ppcle' : 'ppc'
    case EM_S390:
      return bits === 64 ? 's390x' : 's390'
    case EM_MIPS:
      return (bits === 64 ? 'mips64' : 'mips') + (little ? 'el' : '')
    case EM_LOONGARCH:
      return bits === 64 ? 'loongarch64' : 'loongarch32'
    case EM_SPARCV9:
      return 'sparc64'
    case EM_SPARC:
      return 'sparc'
    default:
      return `e_machine ${code}`
  }
}

interface Toolchain {
  goarch?: string
  rustTarget?: string
  multiarch?: string
}

const TOOLCHAINS: Record<string, Toolchain> = {
  'x86-64': {
    goarch: 'amd64',
    rustTarget: 'x86_64-unknown-linux-musl',
    multiarch: 'x86_64-linux-gnu'
  },
  aarch64: {
    goarch: 'arm64',
    rustTarget: 'aarch64-unknown-linux-musl',
    multiarch: 'aarch64-linux-gnu'
  },
  i386: { goarch: '386', rustTarget: 'i686-unknown-linux-musl', multiarch: 'i386-linux-gnu' },
  arm: {
    goarch: 'arm',
    rustTarget: 'armv7-unknown-linux-musleabihf',
    multiarch: 'arm-linux-gnueabihf'
  },
  riscv64: {
    goarch: 'riscv64',
    rustTarget: 'riscv64gc-unknown-linux-musl',
    multiarch: 'riscv64-linux-gnu'
  },
  ppc64le: {
    goarch: 'ppc64le',
    rustTarget: 'powerpc64le-unknown-linux-musl',
    multiarch: 'powerpc64le-linux-gnu'
  },
  ppc64: { goarch: 'ppc64', multiarch: 'powerpc64-linux-gnu' },
  s390x: { goarch: 's390x', rustTarget: 's390x-unknown-linux-gnu', multiarch: 's390x-linux-gnu' },
  loongarch64: {
    goarch: 'loong64',
    rustTarget: 'loongarch64-unknown-linux-musl',
    multiarch: 'loongarch64-linux-gnu'
  }
}

const ALIASES: Record<string, string> = {
  amd64: 'x86-64',
  x86_64: 'x86-64',
  x64: 'x86-64',
  arm64: 'aarch64',
  '386': 'i386',
  i686: 'i386',
  x86: 'i386',
  armhf: 'arm',
  armv7: 'arm',
  ppc64el: 'ppc64le',
  powerpc64le: 'ppc64le',
  loong64: 'loongarch64'
}

/** Names machineName() gives that have no toolchain entry above. */
const OTHER_MACHINES = new Set([
  'x32',
  'aarch64_be',
  'armeb',
  'riscv32',
  'ppc',
  'ppcle',
  's390',
  'mips',
  'mipsel',
  'mips64',
  'mips64el',
  'loongarch32',
  'sparc',
  'sparc64'
])

/** "amd64", "x86_64", "x86-64" → "x86-64"; undefined for names we do not know. */
export function normalizeArch(name: string): string | undefined {
  const lower = name.trim().toLowerCase()
  if (lower in TOOLCHAINS || OTHER_MACHINES.has(lower)) return lower
  return ALIASES[lower]
}

export function knownArchNames(): string[] {
  return Object.keys(TOOLCHAINS)
}

/** Where glibc's loader looks on Debian-style systems, e.g. "x86_64-linux-gnu". */
export function multiarchTriplet(machine: string): string | undefined {
  return TOOLCHAINS[machine]?.multiarch
}

/** "Go GOARCH=amd64, Rust --target x86_64-unknown-linux-musl" for the fix hints. */
export function buildForHint(machine: string): string {
  const toolchain = TOOLCHAINS[machine]
  const hints: string[] = []
  if (toolchain?.goarch) hints.push(`Go: GOARCH=${toolchain.goarch}`)
  if (toolchain?.rustTarget) hints.push(`Rust: --target ${toolchain.rustTarget}`)
  if (toolchain?.multiarch) hints.push(`C: ${toolchain.multiarch}-gcc`)
  return hints.length > 0 ? hints.join(', ') : `a ${machine} toolchain`
}

/** Rust's musl target for static builds on this machine, if Rust has one. */
export function staticRustTarget(machine: string): string | undefined {
  const target = TOOLCHAINS[machine]?.rustTarget
  return target?.includes('musl') ? target : undefined
}
