import * as http from 'node:http'
import * as net from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface HttpAnswer {
  status: number
  /** The first few KB of the body. */
  body: string
}

const BODY_LIMIT = 4096

/** One GET: the status and the start of the body, or why there was none ("ECONNRESET", "timeout"). */
export function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer | string> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk.slice(0, BODY_LIMIT - body.length)
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}
