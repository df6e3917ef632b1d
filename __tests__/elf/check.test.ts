import { beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { checkImageBinaries, type BinaryCheckResult } from '../../src/elf/check.js'
import type { Entry } from '../../src/image/entry.js'
import { buildElf, EM } from './elf-builder.js'
import {
  bytesEntry,
  compileFixtures,
  dirEntry,
  ensureDownloadedFixtures,
  fileEntry,
  hostFile,
  symlinkEntry,
  type CompiledFixtures,
  type DownloadedFixtures
} from './fixtures.js'

let compiled: CompiledFixtures
let downloaded: DownloadedFixtures

beforeAll(() => {
  compiled = compileFixtures()
  downloaded = ensureDownloadedFixtures()
})

const MULTIARCH = '/lib/x86_64-linux-gnu'

/** An x86-64 static busybox: the host's if installed, else a gcc -static build. */
function busyboxEntry(): Entry {
  const source = fs.existsSync('/bin/busybox') ? '/bin/busybox' : compiled.staticExec
  return fileEntry('bin/busybox', source)
}

function aarch64Entry(archivePath: string): Entry {
  return { ...fileEntry(archivePath, downloaded.aarch64), origin: 'mapping arm64' }
}

function caddyEntry(): Entry {
  return { ...fileEntry('usr/bin/caddy', downloaded.caddy), origin: 'mapping payload/caddy' }
}

/** The loader, libc and libzstd from the host, laid out as Debian does, symlinks and all. */
function caddyLibraries(): Entry[] {
  return [
    dirEntry('lib64'),
    symlinkEntry('lib64/ld-linux-x86-64.so.2', `${MULTIARCH}/ld-linux-x86-64.so.2`),
    dirEntry('lib'),
    dirEntry('lib/x86_64-linux-gnu'),
    fileEntry(
      'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      hostFile(`${MULTIARCH}/ld-linux-x86-64.so.2`)
    ),
    fileEntry('lib/x86_64-linux-gnu/libc.so.6', hostFile(`${MULTIARCH}/libc.so.6`)),
    fileEntry('usr/lib/libzstd.so.1.5', hostFile(`${MULTIARCH}/libzstd.so.1`)),
    symlinkEntry('usr/lib/libzstd.so.1', 'libzstd.so.1.5')
  ]
}

function messages(result: BinaryCheckResult): string[] {
  return result.errors.map((error) => error.format())
}

describe('checkImageBinaries: static images', () => {
  it('passes busybox plus static executables, and lists them', async () => {
    const result = await checkImageBinaries([
      dirEntry('bin'),
      busyboxEntry(),
      symlinkEntry('bin/sh', 'busybox'),
      fileEntry('usr/bin/hello', compiled.staticExec),
      fileEntry('usr/bin/hello-pie', compiled.staticPie)
    ])
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([])
    expect(result.binaries).toEqual([
      { path: 'bin/busybox', machine: 'x86-64', linkage: 'static', role: 'executable' },
      { path: 'usr/bin/hello', machine: 'x86-64', linkage: 'static', role: 'executable' },
      { path: 'usr/bin/hello-pie', machine: 'x86-64', linkage: 'static', role: 'executable' }
    ])
  })

  it('ignores scripts, text and other non-ELF files', async () => {
    const result = await checkImageBinaries([
      bytesEntry('init', '#!/bin/sh\nexec /usr/bin/app\n'),
      bytesEntry('etc/motd', 'hello\n', 0o644),
      bytesEntry('etc/empty', '', 0o644),
      bytesEntry('usr/share/blob', new Uint8Array([0x7f, 0x45, 0x4c]), 0o644)
    ])
    expect(result).toEqual({ errors: [], warnings: [], binaries: [] })
  })
})

describe('checkImageBinaries: dynamic executables', () => {
  it('catches Debian caddy as dynamic and names its interpreter, libc and libzstd', async () => {
    const result = await checkImageBinaries([busyboxEntry(), caddyEntry()])
    expect(result.errors).toHaveLength(1)
    const [message] = messages(result)
    expect(message).toContain('/usr/bin/caddy (mapping payload/caddy) is dynamically linked')
    expect(message).toContain('interpreter /lib64/ld-linux-x86-64.so.2')
    expect(message).toContain('libraries libzstd.so.1, libc.so.6')
    expect(message).toContain('no such file or directory')
    const fix = result.errors[0]?.fix
    expect(fix).toContain('CGO_ENABLED=0')
    expect(fix).toContain('--target x86_64-unknown-linux-musl')
    expect(fix).toContain('-static')
    expect(fix).toContain('allow-dynamic')
    expect(result.binaries).toContainEqual({
      path: 'usr/bin/caddy',
      machine: 'x86-64',
      linkage: 'dynamic',
      role: 'executable',
      interp: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libzstd.so.1', 'libc.so.6']
    })
  })

  it('passes caddy silently with allowDynamic once its loader and libraries are mapped', async () => {
    const result = await checkImageBinaries([busyboxEntry(), caddyEntry(), ...caddyLibraries()], {
      allowDynamic: true
    })
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([])
    expect(result.binaries.map((binary) => [binary.path, binary.role])).toEqual([
      ['bin/busybox', 'executable'],
      ['usr/bin/caddy', 'executable'],
      ['lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'library'],
      ['lib/x86_64-linux-gnu/libc.so.6', 'library'],
      ['usr/lib/libzstd.so.1.5', 'library']
    ])
  })

  it('without allowDynamic, a complete dynamic executable is a warning, not an error', async () => {
    const result = await checkImageBinaries([busyboxEntry(), caddyEntry(), ...caddyLibraries()])
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([
      expect.stringContaining('/usr/bin/caddy (mapping payload/caddy) is dynamically linked')
    ])
    expect(result.warnings[0]).toContain('--allow-dynamic')
  })

  it('with allowDynamic, still reports a missing library, as a warning', async () => {
    const withoutZstd = caddyLibraries().filter((entry) => !entry.path.includes('zstd'))
    const result = await checkImageBinaries([busyboxEntry(), caddyEntry(), ...withoutZstd], {
      allowDynamic: true
    })
    expect(messages(result)).toEqual([])
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toContain('lacks the library libzstd.so.1;')
    expect(result.warnings[0]).toContain('error while loading shared libraries')
    expect(result.warnings[0]).not.toContain('interpreter')
  })

  it('follows a symlinked lib64 folder to the interpreter', async () => {
    const result = await checkImageBinaries(
      [
        busyboxEntry(),
        caddyEntry(),
        ...caddyLibraries().filter((entry) => !entry.path.startsWith('lib64')),
        symlinkEntry('lib64', 'lib/x86_64-linux-gnu')
      ],
      { allowDynamic: true }
    )
    expect(result.warnings).toEqual([])
  })

  it('reports a dependency of a library, and a library of the wrong architecture', async () => {
    const interp = '/lib/ld-musl-x86_64.so.1'
    const result = await checkImageBinaries([
      busyboxEntry(),
      bytesEntry('usr/bin/app', buildElf({ interp, needed: ['libfoo.so', 'libc.so'] })),
      bytesEntry('lib/ld-musl-x86_64.so.1', buildElf({ type: 3, soname: 'libc.so' })),
      symlinkEntry('lib/libc.so', 'ld-musl-x86_64.so.1'),
      bytesEntry(
        'usr/lib/libfoo.so',
        buildElf({ type: 3, soname: 'libfoo.so', needed: ['libbar.so.1', 'libc.so'] })
      ),
      bytesEntry('usr/lib/libbar.so.1', buildElf({ type: 3, machine: EM.AARCH64 }), 0o644)
    ])
    expect(messages(result)).toEqual([
      expect.stringContaining(
        '/usr/bin/app (test bytes) is dynamically linked, but the image lacks the library ' +
          'libbar.so.1 (needed by /usr/lib/libfoo.so; /usr/lib/libbar.so.1 is aarch64)'
      ),
      expect.stringContaining('/usr/lib/libbar.so.1 (test bytes) is built for aarch64')
    ])
  })

  it("resolves libraries through the binary's $ORIGIN runpath", async () => {
    const result = await checkImageBinaries(
      [
        busyboxEntry(),
        bytesEntry(
          'opt/app/bin/app',
          buildElf({ interp: '/lib/ld.so', needed: ['libapp.so'], runpath: '$ORIGIN/../lib' })
        ),
        bytesEntry('lib/ld.so', buildElf({ type: 3, soname: 'ld.so' })),
        bytesEntry('opt/app/lib/libapp.so', buildElf({ type: 3, soname: 'libapp.so' }))
      ],
      { allowDynamic: true }
    )
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([])
  })

  it("treats the host's libc.so.6 as a library despite its PT_INTERP", async () => {
    const result = await checkImageBinaries([
      busyboxEntry(),
      fileEntry('lib/x86_64-linux-gnu/libc.so.6', hostFile(`${MULTIARCH}/libc.so.6`))
    ])
    expect(result).toMatchObject({ errors: [], warnings: [] })
    expect(result.binaries[1]).toMatchObject({ role: 'library', linkage: 'dynamic' })
  })
})

describe('checkImageBinaries: architecture', () => {
  it('fails an aarch64 binary in an x86-64 image, naming both', async () => {
    const result = await checkImageBinaries([
      busyboxEntry(),
      { ...aarch64Entry('usr/bin/tool'), origin: 'mapping payload/tool' }
    ])
    expect(messages(result)).toEqual([
      '/usr/bin/tool (mapping payload/tool) is built for aarch64, but the image is x86-64 ' +
        '(from /bin/busybox); running it would fail with "exec format error". ' +
        'Fix: build it for x86-64 (Go: GOARCH=amd64, Rust: --target x86_64-unknown-linux-musl, ' +
        'C: x86_64-linux-gnu-gcc), or map the x86-64 build instead.'
    ])
  })

  it("takes the image's architecture from busybox even when it is listed last", async () => {
    const result = await checkImageBinaries([
      fileEntry('usr/bin/hello', compiled.staticExec),
      aarch64Entry('bin/busybox')
    ])
    expect(messages(result)).toEqual([
      expect.stringMatching(
        /^\/usr\/bin\/hello .* is built for x86-64, but the image is aarch64 \(from \/bin\/busybox\).*GOARCH=arm64/
      )
    ])
  })

  it('falls back to /init, following its symlink', async () => {
    const result = await checkImageBinaries([
      fileEntry('usr/bin/first', compiled.staticExec),
      aarch64Entry('sbin/agent'),
      symlinkEntry('init', '/sbin/agent')
    ])
    expect(messages(result)).toEqual([
      expect.stringContaining('/usr/bin/first (mapping hello-static) is built for x86-64')
    ])
    expect(messages(result)[0]).toContain('(from /init)')
  })

  it('falls back to the first executable', async () => {
    const result = await checkImageBinaries([
      bytesEntry('init', '#!/bin/sh\n'),
      aarch64Entry('usr/bin/a'),
      fileEntry('usr/bin/b', compiled.staticExec)
    ])
    expect(messages(result)).toEqual([
      expect.stringContaining('/usr/bin/b (mapping hello-static) is built for x86-64')
    ])
  })

  it('lets the arch option override detection and accepts Go/Debian names', async () => {
    const result = await checkImageBinaries(
      [aarch64Entry('bin/busybox'), fileEntry('usr/bin/b', compiled.staticExec)],
      { arch: 'amd64' }
    )
    expect(messages(result)).toEqual([
      expect.stringContaining('/bin/busybox (mapping arm64) is built for aarch64')
    ])
  })

  it('reports an unknown arch option and still checks by detection', async () => {
    const result = await checkImageBinaries([busyboxEntry(), aarch64Entry('usr/bin/tool')], {
      arch: 'z80'
    })
    expect(messages(result)).toEqual([
      expect.stringMatching(/^arch: arch = "z80" is not an architecture fledge knows/),
      expect.stringContaining('/usr/bin/tool (mapping arm64) is built for aarch64')
    ])
  })
})

describe('checkImageBinaries: damaged and unreadable files', () => {
  it('fails a truncated ELF file with a clear reason', async () => {
    const head = fs.readFileSync(downloaded.caddy).subarray(0, 1 << 20)
    const result = await checkImageBinaries([busyboxEntry(), bytesEntry('usr/bin/caddy', head)])
    expect(messages(result)).toEqual([
      expect.stringMatching(
        /^\/usr\/bin\/caddy \(test bytes\) is a damaged ELF file \(truncated: a loadable segment ends at byte \d+, past the end of the file \(1048576 bytes\)\).*Fix: map the complete file/
      )
    ])
    expect(result.binaries.map((binary) => binary.path)).toEqual(['bin/busybox'])
  })

  it('checks only the last entry for a path, as a mapping overwrites', async () => {
    const result = await checkImageBinaries([
      busyboxEntry(),
      aarch64Entry('usr/bin/tool'),
      fileEntry('usr/bin/tool', compiled.staticExec)
    ])
    expect(result).toMatchObject({ errors: [], warnings: [] })
    expect(result.binaries.map((binary) => binary.machine)).toEqual(['x86-64', 'x86-64'])
  })

  it('warns about a source it cannot read instead of failing the check', async () => {
    const missing = fileEntry('usr/bin/hello', compiled.staticExec)
    const result = await checkImageBinaries([
      busyboxEntry(),
      { ...missing, source: { kind: 'path', path: path.join(compiled.dir, 'gone'), size: 1 } }
    ])
    expect(result.errors).toEqual([])
    expect(result.warnings).toEqual([expect.stringContaining('could not read it to check it')])
  })

  it('says why a source could not be read, as a sentence without raw errno text', async () => {
    const gone = path.join(compiled.dir, 'gone')
    const result = await checkImageBinaries([
      busyboxEntry(),
      { ...fileEntry('usr/bin/hello', compiled.staticExec), source: { kind: 'path', path: gone, size: 1 } }
    ])
    expect(result.warnings).toEqual([`/usr/bin/hello (mapping hello-static): could not read it to check it: file not found: ${gone}. Fix: check the path.`])
  })
})

describe('checkImageBinaries: judges what can run', () => {
  const blob = (archivePath: string, mode: number): Entry => ({
    ...fileEntry(archivePath, downloaded.caddy, mode),
    origin: 'mapping blobs'
  })

  it('a dynamic ELF without an execute bit under /srv is data: no error, one note', async () => {
    const result = await checkImageBinaries([busyboxEntry(), blob('srv/blobs/caddy', 0o644)])
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([
      expect.stringMatching(/^note: \/srv\/blobs\/caddy \(mapping blobs\) is an ELF program without an execute bit \(mode 0644\) outside the program and library folders, so it is packed as data/)
    ])
    expect(result.binaries).toContainEqual(expect.objectContaining({ path: 'srv/blobs/caddy', role: 'data' }))
    expect(result.warnings.join('\n')).not.toMatch(/running it would fail/)
  })

  it('a foreign-architecture ELF data blob is a note, not an error', async () => {
    const result = await checkImageBinaries([busyboxEntry(), { ...aarch64Entry('srv/vm/guest'), mode: 0o644 }])
    expect(messages(result)).toEqual([])
    expect(result.warnings).toEqual([expect.stringContaining('/srv/vm/guest (mapping arm64) is an ELF program without an execute bit')])
  })

  it('a static data blob that would run fine needs no note', async () => {
    const result = await checkImageBinaries([busyboxEntry(), fileEntry('srv/static', compiled.staticExec, 0o644)])
    expect(result).toMatchObject({ errors: [], warnings: [] })
  })

  it('executables keep the checks: with an execute bit anywhere, or in a program folder without one', async () => {
    for (const entry of [blob('srv/blobs/caddy', 0o755), blob('usr/bin/caddy', 0o644), blob('usr/lib/caddy', 0o644)]) {
      const result = await checkImageBinaries([busyboxEntry(), entry])
      expect(messages(result)).toEqual([expect.stringMatching(/is dynamically linked, but the image lacks its interpreter .*running it would fail/)])
    }
  })

  it('a mapping that replaces /bin/busybox or /bin/kestrel with text fails, naming the mapping', async () => {
    const text = (archivePath: string, source: string): Entry => ({
      ...bytesEntry(archivePath, 'just some text\n'),
      origin: `mapping "${source}"`
    })
    const result = await checkImageBinaries([
      fileEntry('init', compiled.staticExec),
      text('bin/busybox', 'notes.txt'),
      text('bin/kestrel', 'agent.txt')
    ])
    expect(messages(result)).toEqual([
      expect.stringMatching(/^\/bin\/busybox \(mapping "notes\.txt"\) replaces busybox with something that is not an ELF executable for x86-64; \/bin\/sh and every other busybox applet would fail to run\. Fix: map a static busybox built for x86-64/),
      expect.stringMatching(/^\/bin\/kestrel \(mapping "agent\.txt"\) replaces kestrel with something that is not an ELF executable for x86-64; the default init starts \/bin\/kestrel as the agent/)
    ])
  })

  it('a mapped shared library over /bin/busybox fails; a generated stand-in agent script does not', async () => {
    const library = { ...fileEntry('bin/busybox', hostFile(`${MULTIARCH}/libc.so.6`)), origin: 'mapping "libc.so.6"' }
    const agent = { ...bytesEntry('bin/kestrel', '#!/bin/sh\n'), origin: 'agent (kestrel)' }
    const result = await checkImageBinaries([fileEntry('init', compiled.staticExec), library, agent])
    expect(messages(result)).toEqual([expect.stringContaining('/bin/busybox (mapping "libc.so.6") replaces busybox with something that is not an ELF executable')])
  })
})
