import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export type Route = Buffer | { status: number } | { reset: true } | { truncate: Buffer }

/** A static file server on 127.0.0.1 that counts requests and can fail on demand. */
export interface FileServer {
  url: string
  requests: string[]
  routes: Map<string, Route | Route[]>
  close(): Promise<void>
}

export async function startFileServer(routes: Record<string, Route | Route[]> = {}): Promise<FileServer> {
  const table = new Map(Object.entries(routes))
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push(path)
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
    } else {
      res.writeHead(route.status).end(`status ${route.status}`)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}
