import { machineName } from './machine.js'
import { bytesReader, openFileReader, type PositionalReader } from './reader.js'

export type ElfType = 'REL' | 'EXEC' | 'DYN' | 'CORE' | 'OTHER'

export interface ElfHeader {
  bits: 32 | 64
  endian: 'little' | 'big'
  /** "x86-64", "aarch64", "ppc64le", … (see machine.ts). */
  machine: string
  machineCode: number
  type: ElfType
}

export interface ElfFile extends ElfHeader {
  status: 'ok'
  /** Dynamic when the kernel must start an interpreter (PT_INTERP); a static-PIE has none. */
  linkage: 'static' | 'dynamic'
  interp?: string
  /** DT_NEEDED, in file order. */
  needed: string[]
  soname?: string
  rpath?: string
  runpath?: string
  /** DF_1_PIE: the linker marked the file an executable, not a library. */
  pie: boolean
}

/** Starts with the ELF magic but cannot be what it claims: the kernel would refuse it too. */
export interface DamagedElf {
  status: 'damaged'
  reason: string
  /** Present when the header itself was readable. */
  header?: ElfHeader
}

export type ElfParseResult = ElfFile | DamagedElf

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46]
const PN_XNUM = 0xffff
const PT_LOAD = 1
const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0n
const DT_NEEDED = 1n
const DT_STRTAB = 5n
const DT_STRSZ = 10n
const DT_SONAME = 14n
const DT_RPATH = 15n
const DT_RUNPATH = 29n
const DT_FLAGS_1 = 0x6ffffffbn
const DF_1_PIE = 0x08000000n

// Far beyond anything a linker writes; they only bound what a corrupt file can make us read.
const MAX_INTERP_BYTES = 4096
const MAX_DYNAMIC_BYTES = 1 << 20
const MAX_STRING_BYTES = 4096

const ELF_TYPES: Record<number, ElfType> = { 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' }

class Damaged extends Error {}

interface LoadSegment {
  offset: number
  vaddr: bigint
  filesz: number
}

interface ProgramHeader extends LoadSegment {
  type: number
}

/** Fixed-width fields of one byte range, in the file's byte order. */
class Fields {
  private readonly view: DataView
  constructor(
    bytes: Uint8Array,
    private readonly little: boolean,
    private readonly bits: 32 | 64
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.little)
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.little)
  }
  /** A word of the file's class (Elf32_Addr / Elf64_Addr and friends). */
  word(at: number): bigint {
    return this.bits === 64
      ? this.view.getBigUint64(at, this.little)
      : BigInt(this.view.getUint32(at, this.little))
  }
  /** A word used as a file offset or size, where anything past 2^53 is corruption. */
  number(at: number, what: string): number {
    return toNumber(this.word(at), what)
  }
}

function toNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Damaged(`${what} is out of range`)
  return Number(value)
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`
}

/** undefined: not an ELF file at all (script, text, data). */
export async function parseElf(reader: PositionalReader): Promise<ElfParseResult | undefined> {
  const head = await reader.read(0, 64)
  if (head.byteLength < ELF_MAGIC.length || ELF_MAGIC.some((byte, i) => head[i] !== byte)) {
    return undefined
  }
  const parser = new ElfParser(reader)
  try {
    return await parser.parse(head)
  } catch (error) {
    if (!(error instanceof Damaged)) throw error
    return parser.header
      ? { status: 'damaged', reason: error.message, header: parser.header }
      : { status: 'damaged', reason: error.message }
  }
}

export function parseElfBytes(data: Uint8Array): Promise<ElfParseResult | undefined> {
  return parseElf(bytesReader(data))
}

export async function parseElfFile(path: string): Promise<ElfParseResult | undefined> {
  const reader = await openFileReader(path)
  try {
    return await parseElf(reader)
  } finally {
    await reader.close()
  }
}

class ElfParser {
  header: ElfHeader | undefined
  private little = true
  private bits: 32 | 64 = 64

  constructor(private readonly reader: PositionalReader) {}

  async parse(head: Uint8Array): Promise<ElfFile> {
    const elfClass = head[4]
    const data = head[5]
    if (elfClass !== 1 && elfClass !== 2) throw new Damaged(`unknown ELF class ${elfClass ?? '?'}`)
    if (data !== 1 && data !== 2) throw new Damaged(`unknown ELF byte order ${data ?? '?'}`)
    this.bits = elfClass === 2 ? 64 : 32
    this.little = data === 1
    const headerSize = this.bits === 64 ? 64 : 52
    if (head.byteLength < headerSize) {
      throw new Damaged(
        `truncated: ${this.reader.size} bytes, shorter than an ELF header (${headerSize})`
      )
    }
    const f = this.fields(head)
    const machineCode = f.u16(18)
    const endian = this.little ? 'little' : 'big'
    this.header = {
      bits: this.bits,
      endian,
      machine: machineName(machineCode, this.bits, endian),
      machineCode,
      type: ELF_TYPES[f.u16(16)] ?? 'OTHER'
    }

    const segments = await this.programHeaders(f)
    const loads = segments.filter((s) => s.type === PT_LOAD)
    for (const load of loads) {
      if (load.offset + load.filesz > this.reader.size) {
        throw new Damaged(
          `truncated: a loadable segment ends at byte ${load.offset + load.filesz}, ` +
            `past the end of the file (${this.reader.size} bytes)`
        )
      }
    }
    const interpSegment = segments.find((s) => s.type === PT_INTERP)
    const interp = interpSegment ? await this.interpreter(interpSegment) : undefined
    const dynamicSegment = segments.find((s) => s.type === PT_DYNAMIC)
    const dynamic = dynamicSegment
      ? await this.dynamic(dynamicSegment, loads)
      : { needed: [], pie: false }
    return {
      status: 'ok',
      ...this.header,
      linkage: interp === undefined ? 'static' : 'dynamic',
      ...(interp !== undefined && { interp }),
      ...dynamic
    }
  }

  private fields(bytes: Uint8Array): Fields {
    return new Fields(bytes, this.little, this.bits)
  }

  private async readExactly(offset: number, length: number, what: string): Promise<Uint8Array> {
    const bytes = await this.reader.read(offset, length)
    if (bytes.byteLength < length) {
      throw new Damaged(
        `truncated: ${what} at byte ${offset} (${length} bytes) runs past the end of the file ` +
          `(${this.reader.size} bytes)`
      )
    }
    return bytes
  }

  private async programHeaders(header: Fields): Promise<ProgramHeader[]> {
    const is64 = this.bits === 64
    const phoff = header.number(is64 ? 32 : 28, 'e_phoff')
    const entrySize = header.u16(is64 ? 54 : 42)
    let count = header.u16(is64 ? 56 : 44)
    if (phoff === 0 || count === 0) return []
    if (count === PN_XNUM) count = await this.extendedPhnum(header)
    const minimum = is64 ? 56 : 32
    if (entrySize < minimum) {
      throw new Damaged(`program header size ${entrySize} is smaller than ${minimum}`)
    }
    const table = this.fields(await this.readExactly(phoff, count * entrySize, 'program headers'))
    const headers: ProgramHeader[] = []
    for (let i = 0; i < count; i++) {
      const at = i * entrySize
      headers.push(
        is64
          ? {
              type: table.u32(at),
              offset: table.number(at + 8, 'p_offset'),
              vaddr: table.word(at + 16),
              filesz: table.number(at + 32, 'p_filesz')
            }
          : {
              type: table.u32(at),
              offset: table.number(at + 4, 'p_offset'),
              vaddr: table.word(at + 8),
              filesz: table.number(at + 16, 'p_filesz')
            }
      )
    }
    return headers
  }

  /** More than 65534 program headers: the real count is in section header 0's sh_info. */
  private async extendedPhnum(header: Fields): Promise<number> {
    const is64 = this.bits === 64
    const shoff = header.number(is64 ? 40 : 32, 'e_shoff')
    if (shoff === 0) throw new Damaged('e_phnum is PN_XNUM but there are no section headers')
    const section0 = this.fields(await this.readExactly(shoff, is64 ? 64 : 40, 'section header 0'))
    return section0.u32(is64 ? 44 : 28)
  }

  private async interpreter(segment: ProgramHeader): Promise<string> {
    if (segment.filesz > MAX_INTERP_BYTES) {
      throw new Damaged(`PT_INTERP is ${segment.filesz} bytes long`)
    }
    const bytes = await this.readExactly(segment.offset, segment.filesz, 'PT_INTERP')
    const end = bytes.indexOf(0)
    return decode(end === -1 ? bytes : bytes.subarray(0, end))
  }

  private async dynamic(
    segment: ProgramHeader,
    loads: LoadSegment[]
  ): Promise<Pick<ElfFile, 'needed' | 'soname' | 'rpath' | 'runpath' | 'pie'>> {
    const entrySize = this.bits === 64 ? 16 : 8
    // The loader finds the dynamic table by address; p_offset is only the linker's hint.
    const offset = fileOffset(segment.vaddr, loads) ?? segment.offset
    const length = Math.min(segment.filesz, MAX_DYNAMIC_BYTES)
    const table = this.fields(await this.readExactly(offset, length, 'dynamic section'))

    const needed: bigint[] = []
    const strings = new Map<bigint, bigint>()
    let strtab: bigint | undefined
    let strsz: bigint | undefined
    let flags1 = 0n
    for (let at = 0; at + entrySize <= length; at += entrySize) {
      const tag = this.bits === 64 ? table.word(at) : BigInt(table.u32(at))
      const value = table.word(at + entrySize / 2)
      if (tag === DT_NULL) break
      if (tag === DT_NEEDED) needed.push(value)
      else if (tag === DT_STRTAB) strtab = value
      else if (tag === DT_STRSZ) strsz = value
      else if (tag === DT_FLAGS_1) flags1 = value
      else if (tag === DT_SONAME || tag === DT_RPATH || tag === DT_RUNPATH) strings.set(tag, value)
    }

    const result: Pick<ElfFile, 'needed' | 'soname' | 'rpath' | 'runpath' | 'pie'> = {
      needed: [],
      pie: (flags1 & DF_1_PIE) !== 0n
    }
    if (needed.length === 0 && strings.size === 0) return result
    if (strtab === undefined) throw new Damaged('the dynamic section has no DT_STRTAB')
    const strtabOffset = fileOffset(strtab, loads)
    if (strtabOffset === undefined) {
      throw new Damaged(`DT_STRTAB address ${hex(strtab)} is in no loadable segment`)
    }
    const readString = (index: bigint): Promise<string> => {
      if (strsz !== undefined && index >= strsz) {
        throw new Damaged(`string index ${index} is past DT_STRSZ (${strsz})`)
      }
      return this.cString(strtabOffset + toNumber(index, 'string index'))
    }
    for (const index of needed) result.needed.push(await readString(index))
    const soname = strings.get(DT_SONAME)
    const rpath = strings.get(DT_RPATH)
    const runpath = strings.get(DT_RUNPATH)
    if (soname !== undefined) result.soname = await readString(soname)
    if (rpath !== undefined) result.rpath = await readString(rpath)
    if (runpath !== undefined) result.runpath = await readString(runpath)
    return result
  }

  private async cString(offset: number): Promise<string> {
    const chunks: Uint8Array[] = []
    let length = 0
    while (length < MAX_STRING_BYTES) {
      const chunk = await this.reader.read(offset + length, 256)
      if (chunk.byteLength === 0) {
        throw new Damaged(`truncated: string at byte ${offset} runs past the end of the file`)
      }
      const end = chunk.indexOf(0)
      if (end !== -1) {
        chunks.push(chunk.subarray(0, end))
        return decode(Buffer.concat(chunks))
      }
      chunks.push(chunk)
      length += chunk.byteLength
    }
    throw new Damaged(`string at byte ${offset} is longer than ${MAX_STRING_BYTES} bytes`)
  }
}

/** Where a virtual address's bytes are in the file, via the PT_LOAD that maps it. */
function fileOffset(vaddr: bigint, loads: LoadSegment[]): number | undefined {
  for (const load of loads) {
    if (vaddr >= load.vaddr && vaddr < load.vaddr + BigInt(load.filesz)) {
      return load.offset + Number(vaddr - load.vaddr)
    }
  }
  return undefined
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}
