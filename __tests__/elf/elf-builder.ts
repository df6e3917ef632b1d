/**
 * Writes small synthetic ELF files for the cases no compiler on the test
 * machine produces: 32-bit, big endian, other machines, odd layouts.
 */
export interface ElfSpec {
  bits: 32 | 64
  endian: 'little' | 'big'
  machine: number
  /** 1 REL, 2 EXEC, 3 DYN. */
  type: number
  interp?: string
  needed?: string[]
  soname?: string
  rpath?: string
  runpath?: string
  pie?: boolean
  /** Write PT_DYNAMIC's p_offset wrong, so only mapping its address through PT_LOAD finds it. */
  misleadingDynamicOffset?: boolean
  /** Leave DT_STRTAB out of the dynamic section. */
  omitStrtab?: boolean
  /** Point DT_STRTAB at an address no PT_LOAD maps. */
  unmappedStrtab?: boolean
}

export const EM = {
  I386: 3,
  MIPS: 8,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243
} as const

const BASE = 0x400000
// The data segment sits at a different file-offset-to-address delta than the
// first one, as in real binaries, so offset == address - BASE would be wrong.
const DATA_VADDR = BASE + 0x200000

export function buildElf(spec: Partial<ElfSpec> = {}): Uint8Array {
  const bits = spec.bits ?? 64
  const little = (spec.endian ?? 'little') === 'little'
  const is64 = bits === 64
  const ehsize = is64 ? 64 : 52
  const phentsize = is64 ? 56 : 32
  const dynentsize = is64 ? 16 : 8

  const strtab: number[] = [0]
  const addString = (text: string): number => {
    const offset = strtab.length
    strtab.push(...Buffer.from(text), 0)
    return offset
  }
  const dynamic: [number, number][] = []
  for (const name of spec.needed ?? []) dynamic.push([1, addString(name)])
  if (spec.soname !== undefined) dynamic.push([14, addString(spec.soname)])
  if (spec.rpath !== undefined) dynamic.push([15, addString(spec.rpath)])
  if (spec.runpath !== undefined) dynamic.push([29, addString(spec.runpath)])
  if (spec.pie) dynamic.push([0x6ffffffb, 0x08000000])
  const hasDynamic = dynamic.length > 0
  const interp = spec.interp === undefined ? undefined : Buffer.from(`${spec.interp}\0`)

  const phnum = 2 + (interp ? 1 : 0) + (hasDynamic ? 1 : 0)
  const interpOffset = ehsize + phnum * phentsize
  const dataStart = align(interpOffset + (interp?.length ?? 0), 16)
  const strtabOffset = dataStart
  const dynamicOffset = align(strtabOffset + strtab.length, 8)
  const dynamicCount = hasDynamic ? dynamic.length + 3 : 0 // + STRTAB, STRSZ, NULL
  const total = dynamicOffset + dynamicCount * dynentsize
  const toVaddr = (offset: number): number => DATA_VADDR + (offset - dataStart)

  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  const u16 = (at: number, v: number) => view.setUint16(at, v, little)
  const u32 = (at: number, v: number) => view.setUint32(at, v, little)
  const word = (at: number, v: number) =>
    is64 ? view.setBigUint64(at, BigInt(v), little) : view.setUint32(at, v, little)

  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, little ? 1 : 2, 1])
  u16(16, spec.type ?? 2)
  u16(18, spec.machine ?? EM.X86_64)
  u32(20, 1)
  word(24, BASE) // e_entry
  word(is64 ? 32 : 28, ehsize) // e_phoff
  u16(is64 ? 52 : 40, ehsize)
  u16(is64 ? 54 : 42, phentsize)
  u16(is64 ? 56 : 44, phnum)

  let ph = ehsize
  const programHeader = (type: number, offset: number, vaddr: number, size: number) => {
    u32(ph, type)
    if (is64) {
      word(ph + 8, offset)
      word(ph + 16, vaddr)
      word(ph + 24, vaddr)
      word(ph + 32, size)
      word(ph + 40, size)
    } else {
      word(ph + 4, offset)
      word(ph + 8, vaddr)
      word(ph + 12, vaddr)
      word(ph + 16, size)
      word(ph + 20, size)
    }
    ph += phentsize
  }
  if (interp) programHeader(3, interpOffset, BASE + interpOffset, interp.length)
  programHeader(1, 0, BASE, dataStart)
  programHeader(1, dataStart, DATA_VADDR, total - dataStart)
  if (hasDynamic) {
    const size = dynamicCount * dynentsize
    const offset = spec.misleadingDynamicOffset ? 8 : dynamicOffset
    programHeader(2, offset, toVaddr(dynamicOffset), size)
  }

  if (interp) bytes.set(interp, interpOffset)
  bytes.set(strtab, strtabOffset)
  const strtabAddress = spec.unmappedStrtab ? 0x7000_0000 : toVaddr(strtabOffset)
  const entries: [number, number][] = !hasDynamic
    ? []
    : [
        ...dynamic,
        ...(spec.omitStrtab ? [] : [[5, strtabAddress] as [number, number]]),
        [10, strtab.length]
      ]
  entries.forEach(([tag, value], i) => {
    const at = dynamicOffset + i * dynentsize
    word(at, tag)
    word(at + dynentsize / 2, value)
  })
  return bytes
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to
}
