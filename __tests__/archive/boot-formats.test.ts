/**
 * Issue 13, "done when": each compression boots in QEMU to its marker on
 * Debian's cloud kernel (.kernel/, as the other boot tests), and `inspect
 * --json` lists the same entries for all four. Everything goes through the
 * real CLI: `build --compression X` (default output name, manifest, build
 * record), `inspect --json`, `boot`.
 *
 * The image carries a 9.5 MiB file, so lz4 has two legacy blocks (8 MiB each
 * at most) and zstd many blocks, and its /init prints the file's sha256 as the
 * kernel unpacked it: the marker alone would not show a corrupt unpack of a
 * file nobody reads. A kernel without RD_ZSTD or RD_LZ4 fails here with
 * "compression method … not configured"; Debian's has both, as Volant's has.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { COMPRESSION_FORMATS, DEFAULT_OUTPUT_NAME } from '../../src/archive/compression.js'
import { runCli } from '../support/cli.js'
import { makeProject } from '../support/project.js'
import { fetchTestKernel, type TestKernel } from '../boot/fixtures.js'
import { blendBytes } from '../repro/payload.js'

const MARKER = 'FLEDGE-FORMAT-BOOTED'
const payload = blendBytes(0xb007, 9 * 1048576 + 524288 + 12)

const INIT = `#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "payload: $(/bin/busybox sha256sum /srv/payload.bin)"
echo "${MARKER}"
/bin/busybox poweroff -f
`

const MANIFEST = `schema_version = "1.0"
name = "formats"
version = "0.1.0"
runtime = "formats"

[resources]
cpu_cores = 1
memory_mb = 256

[workload]
type = "http"
entrypoint = "/init"
base_url = "http://127.0.0.1:80"
`

describe('every compression builds, boots to its marker and lists the same entries', () => {
  let kernel: TestKernel
  let project: string
  const listings = new Map<string, unknown>()

  beforeAll(() => {
    kernel = fetchTestKernel()
    project = makeProject({
      'fledge.toml': `version = "1"\nstrategy = "initramfs"\n\n[init]\nnone = true\n\n[source]\nbusybox_url = "file:///bin/busybox"\n\n[mappings]\n"init.sh" = "/init"\n"payload.bin" = "/srv/payload.bin"\n`,
      'manifest.toml': MANIFEST,
      'init.sh': { data: INIT, mode: 0o755 },
      'payload.bin': payload
    })
  })

  it.each(COMPRESSION_FORMATS)('%s', async (format) => {
    const out = path.join(project, format)
    fs.mkdirSync(out)
    // No -o: the image gets the format's default name, in the current folder.
    const cwd = process.cwd()
    process.chdir(out)
    const run = await runCli(['build', '-c', path.join(project, 'fledge.toml'), '-m', path.join(project, 'manifest.toml'), '--compression', format], {
      SOURCE_DATE_EPOCH: '1700000000'
    }).finally(() => process.chdir(cwd))
    expect(run.stderr).not.toMatch(/^error/m)
    expect(run.code).toBe(0)
    const name = DEFAULT_OUTPUT_NAME[format]
    expect(run.stdout.split('\n')[0]).toBe(name)
    const image = path.join(out, name)
    const bytes = fs.readFileSync(image)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    expect(run.stdout).toContain(`checksum:       sha256:${sha256}`)
    expect(run.stdout).toMatch(new RegExp(`compression:    ${format === 'none' ? 'none' : `${format} level \\d+`}\\n`))
    const magic = { gzip: '1f8b08', zstd: '28b52ffd', lz4: '02214c18', none: '303730373031' }[format]
    expect(bytes.subarray(0, magic.length / 2).toString('hex')).toBe(magic)

    // The manifest's checksum and url follow the actual output; the record names the compression.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, `${name}.manifest.json`), 'utf8')) as { initramfs: { url: string; checksum: string } }
    expect(manifest.initramfs.checksum).toBe(`sha256:${sha256}`)
    expect(path.basename(manifest.initramfs.url)).toBe(name)
    const record = JSON.parse(fs.readFileSync(path.join(out, `${name}.build.json`), 'utf8')) as { outputs: { artifact: string; compression: { format: string } } }
    expect(record.outputs).toMatchObject({ artifact: name, compression: { format } })
    expect(fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toContain(`${sha256}  ${name}\n`)

    const inspect = await runCli(['inspect', image, '--json'])
    expect(inspect.code).toBe(0)
    listings.set(format, JSON.parse(inspect.stdout))

    const boot = await runCli(['boot', image, '--kernel', kernel.vmlinuz, '--expect', MARKER, '--timeout', '240', '--console'])
    expect(boot.stderr).not.toMatch(/^error/m)
    expect({ format, code: boot.code }).toEqual({ format, code: 0 })
    expect(boot.stdout).toContain(MARKER)
    const payloadSha = createHash('sha256').update(payload).digest('hex')
    expect(boot.stdout).toContain(`payload: ${payloadSha}  /srv/payload.bin`)
  }, 300_000)

  it('inspect --json lists the same entries for all four', () => {
    expect([...listings.keys()]).toEqual([...COMPRESSION_FORMATS])
    const gzip = listings.get('gzip') as { path: string }[]
    expect(gzip.map((entry) => entry.path)).toContain('srv/payload.bin')
    for (const format of COMPRESSION_FORMATS) expect({ format, entries: listings.get(format) }).toEqual({ format, entries: gzip })
  })
})
