import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileError, readRegularFile } from '../../src/user-files.js'

describe('readRegularFile', () => {
  it('reads a small regular file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-read-')), 'a.toml')
    fs.writeFileSync(file, 'x = 1\n')
    expect(readRegularFile(file, { what: 'config file', maxBytes: 100 }).toString()).toBe('x = 1\n')
  })

  it('catches a file whose size the kernel does not know in advance as it passes the limit', () => {
    // /proc files stat as 0 bytes; their content is only known by reading.
    expect(fs.statSync('/proc/self/status').size).toBe(0)
    expect(() => readRegularFile('/proc/self/status', { what: 'config file', maxBytes: 100 })).toThrow(
      'config file /proc/self/status is larger than the limit of 100 bytes.'
    )
  })
})

describe('fileError', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code, syscall: 'open' })

  it('names the path once when the location already names it', () => {
    expect(fileError(errno('EROFS'), '/ro/m.json', { file: '/ro/m.json', what: 'the file', verb: 'write' }).format()).toBe(
      '/ro/m.json: cannot write the file: the file system is read-only. Fix: write to a writable folder instead (the workspace, or $RUNNER_TEMP).'
    )
  })

  it('shows a Buffer path that is not UTF-8 escaped', () => {
    const name = Buffer.concat([Buffer.from('/srv/caf'), Buffer.from([0xe9])])
    expect(fileError(errno('ENOENT'), name, { what: 'mapping source', verb: 'read' }).format()).toBe(
      'mapping source not found: /srv/caf\\xe9. Fix: check the path.'
    )
  })

  it('lets a caller give a better message or fix for one code, and explains an unknown one by its code', () => {
    const error = fileError(errno('ENOENT'), '/x', { what: 'template', verb: 'read', messages: { ENOENT: 'no template.' }, fixes: { ENOENT: 'add one.' } })
    expect(error.format()).toBe('no template. Fix: add one.')
    expect(fileError(errno('ETXTBSY'), '/x', { what: 'the output', verb: 'write' }).format()).toBe('cannot write the output /x (ETXTBSY). Fix: check /x and its permissions.')
  })
})
