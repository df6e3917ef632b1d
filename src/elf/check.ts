import { posix } from 'node:path'
import { FledgeError } from '../errors.js'
import { isFromImage, toImagePath, type Entry } from '../image/entry.js'
import { findMissingDependencies, type MissingDependencies } from './dependencies.js'
import { ImageTree } from './image-tree.js'
import { buildForHint, knownArchNames, normalizeArch, staticRustTarget } from './machine.js'
import { parseElf, type ElfFile, type ElfParseResult } from './parse.js'
import { bytesReader, openFileReader, type PositionalReader } from './reader.js'
import { isInLibraryFolder, isInProgramFolder } from '../image/modes.js'
import { fileError, isFileSystemError } from '../user-files.js'

export interface CheckImageBinariesOptions {
  /** The author accepts dynamically linked executables (CLI `--allow-dynamic`, Action input `allow-dynamic`). */
  allowDynamic?: boolean | undefined
  /** The image's architecture ("x86-64", "amd64", "arm64", …); detected when absent. */
  arch?: string | undefined
}

/** 'data': an executable-type ELF that nothing can run (no execute bit, outside the program and library folders). */
export type BinaryRole = 'executable' | 'library' | 'data' | 'other'

export interface BinaryReport {
  /** Archive path, as in Entry.path. */
  path: string
  machine: string
  linkage: 'static' | 'dynamic'
  role: BinaryRole
  interp?: string
  needed?: string[]
}

export interface BinaryCheckResult {
  errors: FledgeError[]
  warnings: string[]
  binaries: BinaryReport[]
}

/** Parsing is I/O bound: a few reads per file, many files. */
const PARSE_CONCURRENCY = 16

/**
 * Finds at build time what would otherwise fail on the hypervisor: ELF files
 * for another architecture ("exec format error"), damaged ELF files, and
 * dynamically linked executables whose interpreter or libraries the image
 * lacks ("no such file or directory", "error while loading shared libraries").
 */
export async function checkImageBinaries(
  entries: Entry[],
  options: CheckImageBinariesOptions = {}
): Promise<BinaryCheckResult> {
  const result: BinaryCheckResult = { errors: [], warnings: [], binaries: [] }
  // A later entry for a path replaces an earlier one in the archive, so only it is checked.
  const lastByPath = new Map(entries.map((entry) => [entry.path, entry]))
  const files = [...lastByPath.values()].filter(
    (entry) => entry.type === 'file' && entry.source !== undefined
  )
  const parsed = await mapLimited(files, PARSE_CONCURRENCY, (entry) =>
    parseEntry(entry).catch((error: unknown) => ({
      unreadable:
        isFileSystemError(error) && entry.source?.kind === 'path'
          ? fileError(error, entry.source.path, { what: 'file', verb: 'read' }).format()
          : (error as Error).message
    }))
  )

  const elves = new Map<string, ElfParseResult>()
  const checked: { entry: Entry; elf: ElfFile; role: BinaryRole }[] = []
  const replacedTools: Entry[] = []
  files.forEach((entry, i) => {
    const elf = parsed[i]
    if (elf === undefined) {
      if (isMappedTool(entry)) replacedTools.push(entry)
      return
    }
    if ('unreadable' in elf) {
      result.warnings.push(`${describe(entry)}: could not read it to check it: ${elf.unreadable}`)
      return
    }
    elves.set(entry.path, elf)
    if (elf.status === 'damaged') {
      result.errors.push(
        new FledgeError(
          `${describe(entry)} is a damaged ELF file (${elf.reason}); the kernel would refuse to run it.`,
          { fix: 'map the complete file: re-download or rebuild it.' }
        )
      )
      return
    }
    const role = roleOf(entry, elf)
    if (role !== 'executable' && isMappedTool(entry)) replacedTools.push(entry)
    checked.push({ entry, elf, role })
    result.binaries.push({
      path: entry.path,
      machine: elf.machine,
      linkage: elf.linkage,
      role,
      ...(elf.interp !== undefined && { interp: elf.interp }),
      ...(elf.needed.length > 0 && { needed: elf.needed })
    })
  })

  const tree = new ImageTree(entries)
  const image = { tree, elfAt: (path: string) => elves.get(path) }
  const arch = imageArchitecture(options.arch, tree, elves, checked, result.errors)
  for (const entry of replacedTools) result.errors.push(notAnExecutable(entry, arch))

  for (const { entry, elf, role } of checked) {
    if (role === 'data') {
      const wouldFail =
        (arch !== undefined && elf.machine !== arch.machine) ||
        (elf.linkage === 'dynamic' && hasMissing(findMissingDependencies(entry.path, elf, image)))
      if (wouldFail) result.warnings.push(dataNote(entry))
      continue
    }
    // The container image's own files are its author's: what would fail is said, but does not stop the build.
    const fromImage = isFromImage(entry)
    if (arch && elf.machine !== arch.machine) {
      const mismatch = architectureMismatch(entry, elf, role, arch)
      if (fromImage) result.warnings.push(mismatch.format())
      else result.errors.push(mismatch)
      continue
    }
    if (role !== 'executable' || elf.linkage !== 'dynamic') continue
    const missing = findMissingDependencies(entry.path, elf, image)
    const machine = arch?.machine ?? elf.machine
    if (hasMissing(missing)) {
      const message = missingDependenciesMessage(entry, missing)
      if (fromImage) {
        result.warnings.push(`${message} It comes with the container image: fix the image if the workload runs it.`)
      } else if (options.allowDynamic) {
        result.warnings.push(`${message} Fix: map them into the image.`)
      } else {
        result.errors.push(new FledgeError(message, { fix: staticBuildFix(machine) }))
      }
    } else if (!options.allowDynamic && !fromImage) {
      result.warnings.push(
        `${describe(entry)} is dynamically linked; its interpreter and libraries are in the image. ` +
          'Pass --allow-dynamic (Action input allow-dynamic: true) to say this is intended.'
      )
    }
  }
  return result
}

async function parseEntry(entry: Entry): Promise<ElfParseResult | undefined> {
  const source = entry.source
  if (source === undefined) return undefined
  const reader: PositionalReader =
    source.kind === 'bytes' ? bytesReader(source.data) : await openFileReader(source.path)
  try {
    return await parseElf(reader)
  } finally {
    await reader.close()
  }
}

function hasMissing(missing: MissingDependencies): boolean {
  return missing.interpreter !== undefined || missing.libraries.length > 0
}

/**
 * ET_DYN covers both PIE executables and shared libraries; glibc's libc.so.6
 * even has a PT_INTERP. The linker's PIE flag and a SONAME tell them apart;
 * without either, the name and the execute bits decide. An executable that
 * has no execute bit and lies outside the program and library folders
 * cannot be run by anyone: it is data (a blob for a nested VM, a test file).
 */
function roleOf(entry: Entry, elf: ElfFile): BinaryRole {
  const role = elfRole(entry, elf)
  if (role !== 'executable' || (entry.mode & 0o111) !== 0) return role
  const imagePath = toImagePath(entry.path)
  return isInProgramFolder(imagePath) || isInLibraryFolder(imagePath) ? role : 'data'
}

function elfRole(entry: Entry, elf: ElfFile): BinaryRole {
  if (elf.type === 'EXEC') return 'executable'
  if (elf.type !== 'DYN') return 'other'
  if (elf.pie) return 'executable'
  if (elf.soname !== undefined) return 'library'
  if (elf.interp !== undefined) return 'executable'
  if (/\.so(\.|$)/.test(posix.basename(entry.path))) return 'library'
  return (entry.mode & 0o111) !== 0 ? 'executable' : 'library'
}

function dataNote(entry: Entry): string {
  return (
    `note: ${describe(entry)} is an ELF program without an execute bit (mode ${entry.mode.toString(8).padStart(4, '0')}) ` +
    'outside the program and library folders, so it is packed as data and not checked as a program. ' +
    'If it is meant to run, make its source executable (chmod +x).'
  )
}

/** The tools the image itself runs: busybox for every applet, kestrel as the agent. */
const TOOLS: Record<string, string> = {
  'bin/busybox': '/bin/sh and every other busybox applet would fail to run',
  'bin/kestrel': 'the default init starts /bin/kestrel as the agent, and it would fail to start'
}

function isMappedTool(entry: Entry): boolean {
  return Object.hasOwn(TOOLS, entry.path) && entry.origin.startsWith('mapping ')
}

function notAnExecutable(entry: Entry, arch: ImageArchitecture | undefined): FledgeError {
  const machine = arch?.machine ?? 'the image\'s architecture'
  const tool = posix.basename(entry.path)
  return new FledgeError(
    `${describe(entry)} replaces ${tool} with something that is not an ELF executable${arch ? ` for ${arch.machine}` : ''}; ${TOOLS[entry.path] ?? 'it would fail to run'}.`,
    {
      fix:
        tool === 'busybox'
          ? `map a static busybox built for ${machine} (Debian: busybox-static), or remove the mapping to keep the one the build provides.`
          : `map the kestrel binary built for ${machine}, or remove the mapping and choose the agent in [agent].`
    }
  )
}

interface ImageArchitecture {
  machine: string
  /** Why: "/bin/busybox", "the arch option", … */
  from: string
}

/** The option if given, else busybox's, else init's, else the first executable's. */
function imageArchitecture(
  option: string | undefined,
  tree: ImageTree,
  elves: Map<string, ElfParseResult>,
  checked: { entry: Entry; elf: ElfFile; role: BinaryRole }[],
  errors: FledgeError[]
): ImageArchitecture | undefined {
  if (option !== undefined) {
    const machine = normalizeArch(option)
    if (machine) return { machine, from: `arch = "${option}"` }
    errors.push(
      new FledgeError(`arch = "${option}" is not an architecture fledge knows.`, {
        key: 'arch',
        fix: `use one of ${knownArchNames().join(', ')} (Go and Debian names such as amd64 and arm64 work too).`
      })
    )
  }
  for (const candidate of ['bin/busybox', 'init']) {
    const resolved = tree.resolve(candidate)
    const elf = resolved && elves.get(resolved.path)
    if (elf?.status === 'ok') return { machine: elf.machine, from: toImagePath(candidate) }
  }
  const first = checked.find((binary) => binary.role === 'executable')
  return first && { machine: first.elf.machine, from: toImagePath(first.entry.path) }
}

function architectureMismatch(
  entry: Entry,
  elf: ElfFile,
  role: BinaryRole,
  arch: ImageArchitecture
): FledgeError {
  const consequence =
    role === 'executable'
      ? '; running it would fail with "exec format error"'
      : role === 'library'
        ? '; the dynamic loader would not load it'
        : ''
  return new FledgeError(
    `${describe(entry)} is built for ${elf.machine}, but the image is ${arch.machine} ` +
      `(from ${arch.from})${consequence}.`,
    {
      fix: `build it for ${arch.machine} (${buildForHint(arch.machine)}), or map the ${arch.machine} build instead.`
    }
  )
}

function missingDependenciesMessage(entry: Entry, missing: MissingDependencies): string {
  const pieces: string[] = []
  if (missing.interpreter !== undefined) pieces.push(`its interpreter ${missing.interpreter}`)
  if (missing.libraries.length > 0) {
    const names = missing.libraries.map((library) => {
      const notes = [
        ...(library.neededBy !== entry.path ? [`needed by ${toImagePath(library.neededBy)}`] : []),
        ...library.skipped.map(({ path, reason }) => `${toImagePath(path)} is ${reason}`)
      ]
      return notes.length > 0 ? `${library.name} (${notes.join('; ')})` : library.name
    })
    pieces.push(`the ${names.length === 1 ? 'library' : 'libraries'} ${names.join(', ')}`)
  }
  const symptom =
    missing.interpreter !== undefined
      ? 'running it would fail with "no such file or directory"'
      : 'running it would fail with "error while loading shared libraries"'
  return `${describe(entry)} is dynamically linked, but the image lacks ${pieces.join(' and ')}; ${symptom}.`
}

function staticBuildFix(machine: string): string {
  const rustTarget = staticRustTarget(machine)
  const rust = rustTarget ? `--target ${rustTarget}` : 'a musl target'
  return (
    `build it statically (Go: CGO_ENABLED=0; Rust: ${rust}; C: -static), ` +
    'or map its interpreter and libraries into the image and pass --allow-dynamic (Action input allow-dynamic: true).'
  )
}

/** "/usr/bin/caddy (mapping payload/caddy)" */
function describe(entry: Entry): string {
  return `${toImagePath(entry.path)} (${entry.origin})`
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
