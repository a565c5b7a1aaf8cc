/**
 * A deliberately lossy WebSocket proxy, to prove that a test (or `simulate`) can fail: it
 * sits in front of a y-websocket server and drops a share of the document updates the server
 * sends to clients (sync message, sub-type update), forwarding everything else untouched.
 * A stock client only asks for a full resync when it reconnects, so a dropped update stays
 * missing on that client — exactly the failure of a relay that loses frames.
 *
 * The upstream connection is opened before the client's upgrade is answered, so the server's
 * HTTP refusals (400/401/403/503) reach the client unchanged. Listens on loopback only.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import * as decoding from 'lib0/decoding'
import * as prng from 'lib0/prng'
import { WebSocket, WebSocketServer } from 'ws'

export interface LossyProxyOptions {
  /** The server's WebSocket base URL, e.g. `ws://127.0.0.1:1234`. */
  readonly target: string
  /** Share of server→client document updates to drop, 0..1. */
  readonly dropRate: number
  /** Seed of the drop decisions (default 1). */
  readonly seed?: number
}

export interface LossyProxy {
  /** The proxy's WebSocket base URL: give it to clients instead of the target. */
  readonly url: string
  readonly port: number
  /** Server→client document updates dropped so far. */
  readonly dropped: number
  /** Server→client messages forwarded so far. */
  readonly forwarded: number
  /** Closes the proxy and every connection through it. Safe to call twice. */
  close(): Promise<void>
}

const MESSAGE_SYNC = 0
const SYNC_UPDATE = 2

/** True for a y-websocket sync message carrying a document update (never sync step 1/2). */
function isDocUpdate(data: Buffer): boolean {
  const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  if (!decoding.hasContent(decoder) || decoding.readVarUint(decoder) !== MESSAGE_SYNC) return false
  return decoding.hasContent(decoder) && decoding.readVarUint(decoder) === SYNC_UPDATE
}

/** Close codes a peer may send (1005/1006 only describe what happened locally). */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)
    ? code
    : code >= 3000 && code <= 4999
      ? code
      : 1011
}

/** Starts the proxy on a free loopback port. */
export async function startLossyProxy(options: LossyProxyOptions): Promise<LossyProxy> {
  if (!(options.dropRate >= 0 && options.dropRate <= 1)) {
    throw new RangeError(`dropRate must be from 0 to 1 (got ${options.dropRate})`)
  }
  const target = options.target.replace(/\/+$/, '')
  const random = prng.create(options.seed ?? 1)
  const counters = { dropped: 0, forwarded: 0 }
  const sockets = new Set<WebSocket>()
  const wss = new WebSocketServer({ noServer: true })
  const server: Server = createServer((_req, res) => {
    res.writeHead(426).end('WebSocket only\n')
  })

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const protocols = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
    const headers: Record<string, string> = {}
    for (const name of ['authorization', 'cookie', 'origin'] as const) {
      const value = request.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    const upstream = new WebSocket(`${target}${request.url ?? '/'}`, protocols, { headers })
    sockets.add(upstream)
    let answered = false
    const refuse = (status: string) => {
      if (answered) return
      answered = true
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`)
    }
    // The client vanished before its upgrade was answered: nobody is left to tell.
    socket.on('error', () => socket.destroy())
    upstream.on('unexpected-response', (_req, response) => {
      // Pass the server's refusal through as it was.
      refuse(`${response.statusCode} ${response.statusMessage}`)
      response.resume()
      upstream.terminate()
    })
    // Before the upgrade: the client gets a 502. After it: the close handler in bridge() acts.
    upstream.on('error', () => refuse('502 Bad Gateway'))
    upstream.once('open', () => {
      answered = true
      wss.handleUpgrade(request, socket, head, (client) => {
        sockets.add(client)
        bridge(client, upstream)
      })
    })
  })

  function bridge(client: WebSocket, upstream: WebSocket): void {
    client.on('message', (data: Buffer, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary })
    })
    upstream.on('message', (data: Buffer, isBinary) => {
      if (isBinary && isDocUpdate(data) && prng.real53(random) < options.dropRate) {
        counters.dropped += 1
        return
      }
      counters.forwarded += 1
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary })
    })
    const closeBoth = (code: number, reason: Buffer) => {
      for (const socket of [client, upstream]) {
        if (socket.readyState === WebSocket.OPEN) socket.close(sendableCode(code), reason)
        sockets.delete(socket)
      }
    }
    client.on('close', closeBoth)
    upstream.on('close', closeBoth)
    // Errors end in 'close' for both sockets; the close handler is the one place to react.
    client.on('error', () => client.terminate())
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
  })
  let closed: Promise<void> | undefined
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get dropped() {
      return counters.dropped
    },
    get forwarded() {
      return counters.forwarded
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
