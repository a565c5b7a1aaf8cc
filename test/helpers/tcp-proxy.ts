/**
 * A loopback TCP proxy for network-fault tests: it forwards to `target` until told to
 * black-hole (keep every socket open but stop forwarding, like a middlebox that silently
 * forgot the connection) or to reset (destroy every socket, like a RST). New connections
 * made while black-holed are accepted and then starved the same way.
 */
import { createServer, type Server, Socket } from 'node:net'
import { onTestFinished } from 'vitest'

export interface TcpProxy {
  readonly port: number
  readonly url: string
  /** Connections accepted so far. */
  readonly accepted: number
  /** Stops forwarding in both directions without closing anything. */
  blackHole(): void
  /** Forwards again (also on the connections that were starved). */
  heal(): void
  /** Destroys every open connection (the peers see a reset). */
  reset(): void
  close(): Promise<void>
}

interface Pair {
  readonly client: Socket
  readonly upstream: Socket
  /** Bytes held while black-holed, per direction; delivered in order on heal. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] }
}

/** Starts a proxy on a free loopback port in front of `targetPort`; closed when the test ends. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>()
  let forwarding = true
  let accepted = 0

  const flushHeld = (pair: Pair) => {
    for (const chunk of pair.held.toUpstream.splice(0)) pair.upstream.write(chunk)
    for (const chunk of pair.held.toClient.splice(0)) pair.client.write(chunk)
  }

  const server: Server = createServer((client) => {
    accepted += 1
    const upstream = new Socket()
    const pair: Pair = { client, upstream, held: { toUpstream: [], toClient: [] } }
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      // A fault test provokes resets on purpose; the pair just ends.
      socket.on('error', drop)
      socket.on('close', drop)
    }
    client.on('data', (chunk: Buffer) => {
      if (forwarding) upstream.write(chunk)
      else pair.held.toUpstream.push(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (forwarding) client.write(chunk)
      else pair.held.toClient.push(chunk)
    })
    upstream.connect(targetPort, targetHost)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }

  const close = async () => {
    for (const pair of pairs) {
      pair.client.destroy()
      pair.upstream.destroy()
    }
    pairs.clear()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  onTestFinished(close)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get accepted() {
      return accepted
    },
    blackHole() {
      forwarding = false
    },
    heal() {
      forwarding = true
      for (const pair of pairs) flushHeld(pair)
    },
    reset() {
      for (const pair of pairs) {
        pair.client.resetAndDestroy()
        pair.upstream.destroy()
      }
      pairs.clear()
    },
    close,
  }
}
