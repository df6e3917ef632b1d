// The test setup refuses names that are not loopback, so no test can reach off this machine.
import { describe, expect, it } from '@jest/globals'
import * as dns from 'node:dns'
import * as http from 'node:http'

describe('test network guard', () => {
  it('refuses to resolve a public name, and an HTTP request to it fails before sending', async () => {
    await expect(
      new Promise((resolve, reject) =>
        dns.lookup('api.github.com', (e, a) => (e ? reject(e) : resolve(a)))
      )
    ).rejects.toThrow(/not a loopback address/)
    const error = await new Promise<Error>((resolve) => {
      http.get('http://api.github.com/', () => resolve(new Error('connected'))).on('error', resolve)
    })
    expect(error.message).toMatch(/not a loopback address/)
  })

  it('still resolves localhost', async () => {
    const address = await new Promise((resolve, reject) =>
      dns.lookup('localhost', (e, a) => (e ? reject(e) : resolve(a)))
    )
    expect(String(address)).toMatch(/^(127\.|::1)/)
  })
})
