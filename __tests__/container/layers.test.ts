import { describe, expect, test, beforeEach, afterEach } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { applyLayers } from '../../src/container/layers.js'
import type { Entry } from '../../src/image/entry.js'
import { makeImage, type LayerSpec } from './layer-fixtures.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-test-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

async function apply(layers: LayerSpec[]): Promise<Map<string, Entry>> {
  const image = makeImage(fs.mkdtempSync(path.join(dir, 'blobs-')), layers)
  const temp = path.join(dir, 'extract')
  fs.mkdirSync(temp, { recursive: true })
  const { entries } = await applyLayers(image, { tempDir: temp })
  return new Map(entries.map((e) => [e.path, e]))
}

function content(entry: Entry | undefined): string {
  const source = entry?.source
  if (!source) throw new Error(`no file content for ${entry?.path}`)
  return source.kind === 'bytes' ? Buffer.from(source.data).toString() : fs.readFileSync(source.path, 'utf8')
}

function under(tree: Map<string, Entry>, folder: string): string[] {
  return [...tree.keys()].filter((p) => p.startsWith(`${folder}/`)).sort()
}

describe('applyLayers', () => {
  test('whiteouts and opaque folders across three layers (gzip, zstd, plain tar)', async () => {
    const tree = await apply([
      {
        compression: 'gzip',
        items: [
          { name: 'etc/', type: 'dir' },
          { name: 'etc/a', data: 'a1' },
          { name: 'etc/b', data: 'b1' },
          { name: 'etc/sub/', type: 'dir' },
          { name: 'etc/sub/c', data: 'c1' },
          { name: 'opt/keep', data: 'keep' },
          { name: 'opt/gone/x', data: 'x' },
          { name: 'var/cache/1', data: '1' },
          { name: 'var/cache/2', data: '2' },
          { name: 'srv/x', data: 'lower x' }
        ]
      },
      {
        compression: 'zstd',
        items: [
          { name: 'etc/.wh.a', data: '' },
          { name: 'etc/new', data: 'new2' },
          { name: 'opt/.wh.gone', data: '' },
          { name: 'var/cache/3', data: '3' },
          // The opaque marker after a same-layer entry: it hides only the lower layers' content.
          { name: 'var/cache/.wh..wh..opq', data: '' },
          // A whiteout hides the lower layers' x, not this layer's.
          { name: 'srv/x', data: 'upper x' },
          { name: 'srv/.wh.x', data: '' }
        ]
      },
      {
        compression: 'tar',
        items: [
          { name: 'etc/.wh..wh..opq', data: '' },
          { name: 'etc/only3', data: 'three' },
          { name: 'var/cache/.wh.3', data: '' }
        ]
      }
    ])
    expect(under(tree, 'etc')).toEqual(['etc/only3'])
    expect(content(tree.get('etc/only3'))).toBe('three')
    expect(under(tree, 'opt')).toEqual(['opt/keep'])
    expect(tree.get('var/cache')?.type).toBe('dir')
    expect(under(tree, 'var/cache')).toEqual([])
    expect(content(tree.get('srv/x'))).toBe('upper x')
    expect([...tree.keys()].some((p) => p.includes('.wh.'))).toBe(false)
  })

  test('between the layers: a whiteout of a folder removes its whole subtree; a file over a folder replaces it', async () => {
    const tree = await apply([
      { items: [{ name: 'a/b/c/d', data: 'deep' }, { name: 'k/l', data: 'l' }] },
      { items: [{ name: '.wh.a', data: '' }, { name: 'k', data: 'now a file' }] },
      { items: [{ name: 'a/fresh', data: 'fresh' }] }
    ])
    expect(under(tree, 'a')).toEqual(['a/fresh'])
    expect(tree.get('a')).toMatchObject({ type: 'dir', mode: 0o755 })
    expect(tree.get('k')?.type).toBe('file')
    expect(under(tree, 'k')).toEqual([])
  })

  test('hard links become files with the linked file\'s content and metadata, within a layer and across layers', async () => {
    const big = 'x'.repeat(100_000)
    const tree = await apply([
      {
        items: [
          { name: 'usr/bin/tool', data: big, mode: 0o4755, uid: 1000, gid: 100 },
          { name: 'usr/bin/tool-alias', type: 'hardlink', linkname: 'usr/bin/tool' }
        ]
      },
      { compression: 'zstd', items: [{ name: 'opt/tool-again', type: 'hardlink', linkname: './usr/bin/tool' }] }
    ])
    for (const name of ['usr/bin/tool', 'usr/bin/tool-alias', 'opt/tool-again']) {
      const entry = tree.get(name)
      expect(entry).toMatchObject({ type: 'file', mode: 0o4755, uid: 1000, gid: 100 })
      expect(content(entry)).toBe(big)
    }
    // Large files are extracted under the temp folder, named by number, not by the layer's path.
    const source = tree.get('usr/bin/tool')?.source
    expect(source).toMatchObject({ kind: 'path', size: 100_000 })
    expect(path.dirname(source?.kind === 'path' ? source.path : '')).toBe(path.join(dir, 'extract'))
    expect(path.basename(source?.kind === 'path' ? source.path : '')).toMatch(/^[0-9]+$/)
  })

  test('symlink chains are kept as written, and parents that are symlinks are followed inside the image', async () => {
    const tree = await apply([
      {
        items: [
          { name: 'usr/lib/', type: 'dir' },
          { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
          { name: 'lib64', type: 'symlink', linkname: 'lib' },
          { name: 'bin', type: 'symlink', linkname: '/usr/bin' },
          // Climbs above the root: clamped to the image root, never the host's.
          { name: 'escape', type: 'symlink', linkname: '../../../../../tmp' },
          { name: 'usr/bin/', type: 'dir' }
        ]
      },
      {
        items: [
          { name: 'lib64/ld-test.so', data: 'loader' },
          { name: 'bin/app', data: 'app', mode: 0o755 },
          { name: 'escape/inside', data: 'still inside' }
        ]
      }
    ])
    expect(tree.get('lib')).toMatchObject({ type: 'symlink', target: 'usr/lib' })
    expect(tree.get('lib64')).toMatchObject({ type: 'symlink', target: 'lib' })
    expect(content(tree.get('usr/lib/ld-test.so'))).toBe('loader')
    expect(content(tree.get('usr/bin/app'))).toBe('app')
    expect(content(tree.get('tmp/inside'))).toBe('still inside')
    expect(fs.existsSync('/tmp/inside')).toBe(false)
  })

  test('device nodes, fifos, modes and owners exactly as in the layer', async () => {
    const tree = await apply([
      {
        items: [
          { name: 'dev/null', type: 'char', major: 1, minor: 3, mode: 0o666 },
          { name: 'dev/sda', type: 'block', major: 8, minor: 0, mode: 0o660, gid: 6 },
          { name: 'run/pipe', type: 'fifo', mode: 0o600, uid: 33, gid: 33 },
          { name: 'tmp/', type: 'dir', mode: 0o1777 },
          { name: 'home/user/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000 }
        ]
      }
    ])
    expect(tree.get('dev/null')).toMatchObject({ type: 'char', mode: 0o666, rdev: { major: 1, minor: 3 } })
    expect(tree.get('dev/sda')).toMatchObject({ type: 'block', mode: 0o660, gid: 6, rdev: { major: 8, minor: 0 } })
    expect(tree.get('run/pipe')).toMatchObject({ type: 'fifo', mode: 0o600, uid: 33, gid: 33 })
    expect(tree.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 })
    expect(tree.get('home/user')).toMatchObject({ mode: 0o700, uid: 1000, gid: 1000 })
    // Parents the layer left out are made as runtimes make them.
    expect(tree.get('home')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 })
  })

  test('pax long names and link names, GNU long names, pax uid/gid, ./ prefixes', async () => {
    const long = `opt/${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name`
    const gnu = `srv/${'g'.repeat(120)}`
    const tree = await apply([
      {
        items: [
          { name: long, data: 'pax' },
          { name: gnu, data: 'gnu', gnuLongName: true },
          { name: 'opt/link', type: 'symlink', linkname: `/${long}` },
          { name: './etc/owned', data: 'o', pax: { uid: '3000000', gid: '3000001' } }
        ]
      }
    ])
    expect(content(tree.get(long))).toBe('pax')
    expect(content(tree.get(gnu))).toBe('gnu')
    expect(tree.get('opt/link')?.target).toBe(`/${long}`)
    expect(tree.get('etc/owned')).toMatchObject({ uid: 3000000, gid: 3000001 })
  })

  test('extended attributes (file capabilities) cannot go into newc: left out, and the build says how many', async () => {
    const image = makeImage(fs.mkdtempSync(path.join(dir, 'blobs-')), [
      { items: [{ name: 'usr/bin/ping', data: 'p', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': 'caps' } }, { name: 'plain', data: 'x' }] }
    ])
    const { entries, warnings } = await applyLayers(image, { tempDir: fs.mkdtempSync(path.join(dir, 'x-')) })
    expect(entries.find((e) => e.path === 'usr/bin/ping')).toMatchObject({ type: 'file', mode: 0o755 })
    expect(warnings).toEqual([
      '1 file(s) of image test/image:1 carry extended attributes (e.g. security.capability on /usr/bin/ping), which an initramfs (newc cpio) cannot hold: they are left out.'
    ])
  })

  test.each([
    ['../etc/passwd', /contains '\.\.'/],
    ['usr/../../x', /contains '\.\.'/],
    ['/etc/passwd', /is absolute/]
  ])('a name that could escape the image is refused: %s', async (name, reason) => {
    await expect(apply([{ items: [{ name, data: 'x' }] }])).rejects.toThrow(reason)
    expect(fs.readdirSync(path.join(dir, 'extract'))).toEqual([])
  })

  test('a hard link whose target climbs out, or is missing, is refused', async () => {
    await expect(apply([{ items: [{ name: 'a', type: 'hardlink', linkname: '../../etc/shadow' }] }])).rejects.toThrow(
      /layer 1 of 1 \(sha256:[0-9a-f]{64}\) of image test\/image:1 cannot be applied at the entry "a": its hard link target "..\/..\/etc\/shadow" contains '..'/
    )
    await expect(apply([{ items: [{ name: 'b', type: 'hardlink', linkname: 'nowhere' }] }])).rejects.toThrow(
      /hard link to "nowhere", which no earlier entry or lower layer provides/
    )
  })

  test('a layer whose bytes contradict its media type is refused, naming both', async () => {
    await expect(
      apply([{ compression: 'gzip', mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', items: [{ name: 'a', data: 'a' }] }])
    ).rejects.toThrow(/is declared application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd \(zstd\), but its bytes are gzip/)
    await expect(
      apply([{ compression: 'tar', mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', items: [{ name: 'a', data: 'a' }] }])
    ).rejects.toThrow(/\(gzip\), but its bytes are tar/)
    await expect(
      apply([{ compression: 'gzip', mediaType: 'application/vnd.oci.image.config.v1+json', items: [] }])
    ).rejects.toThrow(/not a filesystem layer/)
  })

  test.each(['gzip', 'zstd'] as const)('a damaged %s layer is refused, naming the layer', async (compression) => {
    const data = Buffer.alloc(200_000)
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
    const image = makeImage(fs.mkdtempSync(path.join(dir, 'blobs-')), [{ compression, items: [{ name: 'a', data }] }])
    const blob = fs.readFileSync(image.layers[0]!.path)
    for (let i = 100; i < blob.length - 100; i += 997) blob[i] = blob[i]! ^ 0x5a
    fs.writeFileSync(image.layers[0]!.path, blob)
    await expect(applyLayers(image, { tempDir: fs.mkdtempSync(path.join(dir, 'x-')) })).rejects.toThrow(
      /^layer 1 of 1 \(sha256:[0-9a-f]{64}\) of image test\/image:1 (is not valid gzip|could not be decompressed|cannot be applied)/
    )
  })

  test('damaged headers and truncated layers are refused', async () => {
    const image = makeImage(path.join(dir, 'blobs'), [{ compression: 'tar', items: [{ name: 'a', data: 'hello' }] }])
    const layer = image.layers[0]!
    const bytes = fs.readFileSync(layer.path)
    bytes[10] = 0x41 // inside the name: the checksum no longer matches
    fs.writeFileSync(layer.path, bytes)
    await expect(applyLayers(image, { tempDir: dir })).rejects.toThrow(/wrong checksum/)

    const fresh = makeImage(path.join(dir, 'blobs2'), [{ compression: 'tar', items: [{ name: 'a', data: 'hello' }] }])
    const blob = fresh.layers[0]!
    fs.writeFileSync(blob.path, fs.readFileSync(blob.path).subarray(0, 512 + 3))
    await expect(applyLayers(fresh, { tempDir: dir })).rejects.toThrow(/ends inside a file's data/)

    const octal = makeImage(path.join(dir, 'blobs3'), [{ compression: 'tar', items: [{ name: 'a', data: 'hello' }] }])
    const third = octal.layers[0]!
    const raw = fs.readFileSync(third.path)
    raw.write('9', 100, 'latin1') // mode field
    let sum = 8 * 0x20
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += raw[i]!
    raw.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    fs.writeFileSync(third.path, raw)
    await expect(applyLayers(octal, { tempDir: dir })).rejects.toThrow(/malformed mode field/)
  })

  test('layers written by GNU tar (gnu, pax) and bsdtar (pax, gnutar) all apply to the same tree', async () => {
    const root = path.join(dir, 'tree')
    const long = path.join('opt', 'a'.repeat(70), 'b'.repeat(70), 'long-file-name.txt')
    fs.mkdirSync(path.join(root, path.dirname(long)), { recursive: true })
    fs.mkdirSync(path.join(root, 'etc'))
    fs.writeFileSync(path.join(root, long), 'long')
    fs.writeFileSync(path.join(root, 'etc/conf'), 'x'.repeat(40_000))
    fs.chmodSync(path.join(root, 'etc/conf'), 0o640)
    fs.linkSync(path.join(root, 'etc/conf'), path.join(root, 'etc/conf-hard'))
    fs.symlinkSync(`/${long}`, path.join(root, 'etc/to-long'))
    fs.writeFileSync(path.join(root, 'etc/.wh.gone'), '')
    const owners = ['--owner=0', '--group=0', '--numeric-owner']
    const writers: Record<string, [string, string[]]> = {
      'gnu tar, gnu': ['tar', ['--format=gnu', ...owners]],
      'gnu tar, pax': ['tar', ['--format=pax', ...owners]],
      'bsdtar, pax': ['bsdtar', ['--format=pax', '--uid=0', '--gid=0']],
      // ustar has no room for link targets over 100 bytes: bsdtar leaves such a symlink out.
      'bsdtar, gnutar': ['bsdtar', ['--format=gnutar', '--uid=0', '--gid=0']]
    }
    const trees: Record<string, string[]> = {}
    for (const [name, [tool, args]] of Object.entries(writers)) {
      const layer = execFileSync(tool, ['-c', '-f', '-', ...args, '-C', root, '.'], { maxBuffer: 1 << 26 })
      const image = makeImage(fs.mkdtempSync(path.join(dir, 'blobs-')), [{ compression: 'tar', items: [] }])
      fs.writeFileSync(image.layers[0]!.path, layer)
      const temp = fs.mkdtempSync(path.join(dir, 'extract-'))
      const { entries } = await applyLayers(image, { tempDir: temp })
      trees[name] = entries
        .map((e) => `${e.path} ${e.type} ${e.mode.toString(8)} ${e.target ?? ''} ${e.type === 'file' ? createHash('sha256').update(content(e)).digest('hex').slice(0, 12) : ''}`)
        .sort()
    }
    const reference = trees['gnu tar, gnu']!
    expect(reference).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${long} file 644  `)),
        expect.stringMatching(/^etc\/conf file 640 {2}/),
        expect.stringMatching(/^etc\/conf-hard file 640 {2}/),
        `etc/to-long symlink 777 /${long} `
      ])
    )
    expect(reference.some((line) => line.includes('.wh.'))).toBe(false)
    for (const [name, tree] of Object.entries(trees)) expect([name, tree]).toEqual([name, reference])
  })
})
