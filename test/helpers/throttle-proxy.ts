/**
 * A loopback TCP proxy that delivers server-to-client bytes at a fixed rate, like a slow
 * link: it stops reading from the server while bytes wait, so TCP backpressure reaches the
 * server as it would over a real slow network. Client-to-server bytes pass unthrottled.
 * Closes itself when the test finishes.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { onTestFinished } from 'vitest'

export interface ThrottleProxy {
  /** `ws://127.0.0.1:<port>`: point a provider here instead of at the server. */
  readonly url: string
  close(): Promise<void>
}

/** Ticks per second of the pacing loop: smaller slices, smoother rate. */
const TICKS_PER_SECOND = 20

/** Proxies to `targetPort` on 127.0.0.1, delivering at most `bytesPerSecond` to the client. */
export async function startThrottleProxy(targetPort: number, bytesPerSecond: number): Promise<ThrottleProxy> {
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    // Keep the kernel from hiding a big backlog on our side of the slow link.
    upstream.setNoDelay(true)
    client.setNoDelay(true)
    let queue: Buffer[] = []
    let queued = 0
    const perTick = Math.max(1, Math.floor(bytesPerSecond / TICKS_PER_SECOND))
    const timer = setInterval(() => {
      let budget = perTick
      while (budget > 0 && queue.length > 0) {
        const head = queue[0]!
        const slice = head.subarray(0, budget)
        if (slice.length === head.length) queue.shift()
        else queue[0] = head.subarray(slice.length)
        queued -= slice.length
        budget -= slice.length
        client.write(slice)
      }
      if (queued === 0 && upstream.isPaused()) upstream.resume()
    }, 1000 / TICKS_PER_SECOND)
    timers.add(timer)
    upstream.on('data', (chunk: Buffer) => {
      queue.push(chunk)
      queued += chunk.length
      if (queued >= perTick) upstream.pause()
    })
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    const end = () => {
      clearInterval(timer)
      timers.delete(timer)
      queue = []
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const timer of timers) clearInterval(timer)
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
    return closed
  }
  onTestFinished(close)
  return { url: `ws://127.0.0.1:${address.port}`, close }
}
