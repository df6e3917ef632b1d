import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../../src/config/load.js'
import { parseSourceDateEpoch } from '../../src/config/epoch.js'
import { DEFAULT_BUSYBOX_SHA256, DEFAULT_BUSYBOX_URL } from '../../src/config/types.js'
import { FledgeError, FledgeErrors } from '../../src/errors.js'

const FILE = '/project/fledge.toml'
const parse = (text: string | Buffer) => parseConfig(Buffer.isBuffer(text) ? text : Buffer.from(text), FILE)

function errorOf(text: string | Buffer): string {
  try {
    parse(text)
  } catch (error) {
    expect(error).toBeInstanceOf(FledgeError)
    return (error as FledgeError).format()
  }
  throw new Error('expected the config to be rejected')
}

const HEAD = 'version = "1"\nstrategy = "initramfs"\n'

describe('accepted configs and defaults', () => {
  it('no [agent] in default mode → release "latest" from volantvm/volant; default busybox pinned', () => {
    const config = parse(HEAD)
    expect(config.init).toEqual({ mode: 'default' })
    expect(config.agent).toEqual({ strategy: 'release', version: 'latest', repository: 'volantvm/volant' })
    expect(config.busybox).toEqual({ url: DEFAULT_BUSYBOX_URL, sha256: DEFAULT_BUSYBOX_SHA256, pinned: true })
    expect(config.mappings).toEqual([])
  })

  it('a custom busybox URL without sha256 is not given the default sha256', () => {
    const config = parse(`${HEAD}[source]\nbusybox_url = "https://example.test/busybox"\n`)
    expect(config.busybox).toEqual({ url: 'https://example.test/busybox', pinned: false })
  })

  it('a pinned sha256 is lower-cased and may carry a sha256: prefix', () => {
    const sha = 'AB'.repeat(32)
    const config = parse(`${HEAD}[source]\nbusybox_url = "https://x.test/bb"\nbusybox_sha256 = "sha256:${sha}"\n`)
    expect(config.busybox.sha256).toBe('ab'.repeat(32))
  })

  it.each([
    ['release', 'version = "v0.6.0"', { strategy: 'release', version: 'v0.6.0', repository: 'volantvm/volant' }],
    ['local', 'path = "bin/kestrel"', { strategy: 'local', path: '/project/bin/kestrel' }],
    ['http', 'url = "https://x.test/kestrel"', { strategy: 'http', url: 'https://x.test/kestrel' }],
    [
      'http',
      `url = "https://x.test/kestrel"\nchecksum = "sha256:${'0'.repeat(64)}"`,
      { strategy: 'http', url: 'https://x.test/kestrel', sha256: '0'.repeat(64) }
    ]
  ])('agent strategy %s with its field', (strategy, field, expected) => {
    const config = parse(`${HEAD}[agent]\nsource_strategy = "${strategy}"\n${field}\n`)
    expect(config.agent).toEqual(expected)
  })

  it('init modes: empty [init] → default; none = true → none; path → custom', () => {
    expect(parse(`${HEAD}[init]\n`).init).toEqual({ mode: 'default' })
    expect(parse(`${HEAD}[init]\nnone = false\n`).init).toEqual({ mode: 'default' })
    expect(parse(`${HEAD}[init]\nnone = true\n`).init).toEqual({ mode: 'none' })
    expect(parse(`${HEAD}[init]\npath = "./my-init"\n`).init).toEqual({ mode: 'custom', path: './my-init' })
    expect(parse(`${HEAD}[init]\nnone = true\n`).agent).toBeUndefined()
  })

  it('mappings resolve against the config folder; absolute sources stay; destinations normalize', () => {
    const config = parse(`${HEAD}[mappings]\n"payload/caddy" = "/usr/bin/caddy"\n"/abs/file" = "/etc//x/"\n`)
    expect(config.mappings.map((m) => [m.sourcePath, m.destination])).toEqual([
      ['/project/payload/caddy', '/usr/bin/caddy'],
      ['/abs/file', '/etc/x']
    ])
    expect(config.mappings[0]?.position).toEqual({ line: 4, column: 1 })
  })

  it('accepts a UTF-8 BOM and CRLF line endings (including CRLF comment lines)', () => {
    const text = `\uFEFF# comment\r\n${HEAD.replace(/\n/g, '\r\n')}# another\r\n[mappings]\r\n"a" = "/a"\r\n`
    expect(parse(text).mappings).toHaveLength(1)
  })
})

describe('rejected configs: each names file, line:column, key and a fix', () => {
  it('malformed TOML', () => {
    expect(errorOf(`${HEAD}[agent\n`)).toMatch(/^\/project\/fledge\.toml:3:\d+: invalid TOML: .* Fix: correct the TOML syntax/)
  })

  it('invalid UTF-8 names the line', () => {
    const bytes = Buffer.concat([Buffer.from(`${HEAD}# caf`), Buffer.from([0xc3, 0x28]), Buffer.from('\n')])
    expect(errorOf(bytes)).toMatch(/fledge\.toml:3: the file is not valid UTF-8/)
  })

  it('missing version / wrong version / version as a number', () => {
    expect(errorOf('strategy = "initramfs"\n')).toMatch(/version: 'version' field is required\. Fix: add version = "1"/)
    expect(errorOf('version = "2"\nstrategy = "initramfs"\n')).toMatch(/fledge\.toml:1:1: version: unsupported config version "2"/)
    expect(errorOf('version = 1\nstrategy = "initramfs"\n')).toMatch(/unsupported config version 1\. Fix: set version = "1" \(a string\)/)
  })

  it('missing or unknown strategy names the allowed values', () => {
    expect(errorOf('version = "1"\n')).toMatch(/strategy: 'strategy' field is required/)
    expect(errorOf('version = "1"\nstrategy = "squashfs"\n')).toMatch(
      /fledge\.toml:2:1: strategy: unknown strategy "squashfs"; allowed values: "initramfs", "oci_rootfs"/
    )
  })

  it('oci_rootfs is refused: this builder makes initramfs images', () => {
    expect(errorOf('version = "1"\nstrategy = "oci_rootfs"\n')).toMatch(/fledge-action builds initramfs images/)
  })

  it('[filesystem] is refused: it configures oci_rootfs disk images', () => {
    expect(errorOf(`${HEAD}[filesystem]\ntype = "ext4"\n`)).toMatch(/\[filesystem\] configures oci_rootfs/)
  })

  it('[source] image and dockerfile (with context, target, build_args) are read; paths resolve against fledge.toml', () => {
    expect(parse(`${HEAD}[source]\nimage = "oci-layout:./layout:1.0"\n`).container).toEqual({ kind: 'image', reference: 'oci-layout:./layout:1.0' })
    expect(
      parse(`${HEAD}[source]\ndockerfile = "build/Dockerfile"\ncontext = "app"\ntarget = "runtime"\nbuild_args = { VERSION = "1.2" }\n`).container
    ).toEqual({ kind: 'dockerfile', dockerfile: '/project/build/Dockerfile', context: '/project/app', target: 'runtime', buildArgs: { VERSION: '1.2' } })
    expect(parse(`${HEAD}[source]\ndockerfile = "Dockerfile"\n`).container).toMatchObject({ context: '/project' })
    expect(parse(HEAD).container).toBeUndefined()
  })

  it('[source] container inputs: one of image and dockerfile, Dockerfile-only keys need a dockerfile, values checked', () => {
    expect(errorOf(`${HEAD}[source]\nimage = "a:1"\ndockerfile = "Dockerfile"\n`)).toMatch(
      /fledge\.toml:5:1: source\.dockerfile: 'image' and 'dockerfile' are both set/
    )
    expect(errorOf(`${HEAD}[source]\nimage = "a:1"\ntarget = "x"\n`)).toMatch(
      /fledge\.toml:5:1: source\.target: 'target' only applies to a Dockerfile build, and no 'dockerfile' is set\. Fix: remove it: image = "…" names an image that is already built\./
    )
    expect(errorOf(`${HEAD}[source]\nimage = ""\n`)).toMatch(/source\.image: must be a non-empty string/)
    expect(errorOf(`${HEAD}[source]\nimage = 3\n`)).toMatch(/source\.image: must be a non-empty string, not number 3/)
    expect(errorOf(`${HEAD}[source]\ndockerfile = "D"\nbuild_args = { N = 1 }\n`)).toMatch(/source\.build_args\.N: must be a string/)
  })

  it('unknown keys are errors with the likely intent', () => {
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "release"\nverison = "latest"\n`)).toMatch(
      /fledge\.toml:5:1: agent\.verison: unknown key\. Fix: did you mean 'version'\?/
    )
    expect(errorOf(`${HEAD}busybox_url = "x"\n`)).toMatch(/busybox_url: unknown key\. Fix: 'busybox_url' belongs in the \[source\] table/)
    expect(errorOf(`${HEAD}[mapping]\n"a" = "/a"\n`)).toMatch(/mapping: unknown key\. Fix: did you mean 'mappings'/)
  })

  it('mappings written under [init] (the seeds\' own example) are caught with their position', () => {
    const text = `${HEAD}\n[init]\npath = "./init.sh"\n\nmappings = { "./init.sh" = "/init" }\n`
    expect(errorOf(text)).toMatch(
      /fledge\.toml:7:1: init\.mappings: unknown key\. Fix: in TOML every key after a \[init\] header belongs to that table, so this is 'init\.mappings' and fledge would silently build without these files/
    )
  })

  it('init none together with path', () => {
    expect(errorOf(`${HEAD}[init]\nnone = true\npath = "x"\n`)).toMatch(/fledge\.toml:3:1: init: 'none' and 'path' cannot be used together/)
  })

  it('init field types', () => {
    expect(errorOf(`${HEAD}[init]\nnone = "yes"\n`)).toMatch(/init\.none: must be true or false/)
    expect(errorOf(`${HEAD}[init]\npath = ""\n`)).toMatch(/init\.path: must be a non-empty string/)
  })

  it('[agent] in custom and none modes', () => {
    const agent = '[agent]\nsource_strategy = "release"\nversion = "latest"\n'
    expect(errorOf(`${HEAD}[init]\npath = "x"\n${agent}`)).toMatch(/fledge\.toml:5:1: agent: \[agent\] is not allowed in custom init mode/)
    expect(errorOf(`${HEAD}[init]\nnone = true\n${agent}`)).toMatch(/agent: \[agent\] is not allowed in none init mode/)
  })

  it('agent strategy without its field, missing strategy, wrong strategy', () => {
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "release"\n`)).toMatch(/agent\.version: source_strategy "release" requires 'version'/)
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "local"\n`)).toMatch(/agent\.path: source_strategy "local" requires 'path'/)
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "http"\n`)).toMatch(/agent\.url: source_strategy "http" requires 'url'/)
    expect(errorOf(`${HEAD}[agent]\nversion = "latest"\n`)).toMatch(/agent\.source_strategy: 'source_strategy' is required/)
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "git"\n`)).toMatch(
      /fledge\.toml:4:1: agent\.source_strategy: unknown source_strategy "git"; allowed: "release", "local", "http"/
    )
    expect(errorOf(`${HEAD}[agent]\nsource_strategy = "http"\nurl = "https://x"\nchecksum = "md5:abc"\n`)).toMatch(
      /agent\.checksum: not a sha256 checksum/
    )
  })

  it('mapping destinations: relative, with .., root, empty', () => {
    expect(errorOf(`${HEAD}[mappings]\n"app" = "usr/bin/app"\n`)).toMatch(
      /fledge\.toml:4:1: mappings\.app: destination "usr\/bin\/app" is not absolute\. Fix: start it with '\/', e\.g\. "\/usr\/bin\/app"/
    )
    expect(errorOf(`${HEAD}[mappings]\n"app" = "/usr/../etc/app"\n`)).toMatch(/contains '\.\.'/)
    expect(errorOf(`${HEAD}[mappings]\n"app" = "/"\n`)).toMatch(/cannot replace the image root/)
    expect(errorOf(`${HEAD}[mappings]\n"app" = ""\n`)).toMatch(/destination must be a non-empty string/)
    expect(errorOf(`${HEAD}[mappings]\n"" = "/x"\n`)).toMatch(/mapping source is empty/)
  })

  it('a malformed busybox_sha256', () => {
    expect(errorOf(`${HEAD}[source]\nbusybox_sha256 = "abc"\n`)).toMatch(/fledge\.toml:4:1: source\.busybox_sha256: not a sha256 checksum/)
  })

  it('reports every problem at once', () => {
    try {
      parse('strategy = "x"\n[agent]\nsource_strategy = "nope"\n')
      throw new Error('not rejected')
    } catch (error) {
      expect(error).toBeInstanceOf(FledgeErrors)
      expect((error as FledgeErrors).errors).toHaveLength(3)
    }
  })
})

describe('SOURCE_DATE_EPOCH', () => {
  it('defaults to fledge\'s 1704067200 and accepts whole seconds', () => {
    expect(parseSourceDateEpoch(undefined)).toBe(1704067200)
    expect(parseSourceDateEpoch('')).toBe(1704067200)
    expect(parseSourceDateEpoch('1700000000')).toBe(1700000000)
  })
  it.each(['yesterday', '1.5', '-1', '1e9', '99999999999'])('rejects %s', (value) => {
    expect(() => parseSourceDateEpoch(value)).toThrow(/is not a valid timestamp/)
  })
})
