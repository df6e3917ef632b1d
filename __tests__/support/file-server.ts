import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export type Route =
  | Buffer
  | { status: number; headers?: Record<string, string>; body?: string }
  | { reset: true }
  | { truncate: Buffer }
  /** A redirect (302 unless given) to `redirect`, sent as written (relative or absolute). */
  | { redirect: string; status?: number }
  /** The body without Content-Length (chunked transfer encoding). */
  | { chunked: Buffer }
  /** Announces `length` bytes, then sends one every `everyMs` until the client hangs up. */
  | { trickle: { length: number; everyMs: number } }

/** A static file server on 127.0.0.1 that counts requests and can fail on demand. */
export interface FileServer {
  url: string
  requests: string[]
  /** Paths whose client hung up before the response was complete. */
  hungUp: string[]
  routes: Map<string, Route | Route[]>
  close(): Promise<void>
}

export async function startFileServer(routes: Record<string, Route | Route[]> = {}): Promise<FileServer> {
  const table = new Map(Object.entries(routes))
  const requests: string[] = []
  const hungUp: string[] = []
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push(path)
    res.on('close', () => {
      if (!res.writableFinished) hungUp.push(path)
    })
    let route = table.get(path)
    if (Array.isArray(route)) route = route.length > 1 ? route.shift() : route[0]
    if (!route) {
      res.writeHead(404).end('not found')
    } else if (Buffer.isBuffer(route)) {
      res.writeHead(200, { 'content-length': route.length }).end(route)
    } else if ('reset' in route) {
      req.socket.destroy()
    } else if ('truncate' in route) {
      res.writeHead(200, { 'content-length': route.truncate.length })
      res.write(route.truncate.subarray(0, route.truncate.length >> 1), () => req.socket.destroy())
    } else if ('redirect' in route) {
      res.writeHead(route.status ?? 302, { location: route.redirect }).end()
    } else if ('chunked' in route) {
      res.writeHead(200)
      const data = route.chunked
      for (let at = 0; at < data.length; at += 64 * 1024) res.write(data.subarray(at, at + 64 * 1024))
      res.end()
    } else if ('trickle' in route) {
      const { length, everyMs } = route.trickle
      res.writeHead(200, { 'content-length': length })
      const timer = setInterval(() => res.write('x'), everyMs)
      res.on('close', () => clearInterval(timer))
    } else {
      res.writeHead(route.status, route.headers).end(route.body ?? `status ${route.status}`)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hungUp,
    routes: table,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
