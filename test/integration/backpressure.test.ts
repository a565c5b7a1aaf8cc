/**
 * A client that stops reading must not make the server buffer without bound: past
 * MAX_BUFFERED_BYTES it is closed (1013) and counted, and everyone else carries on.
 */
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connectSynced } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('backpressure', () => {
  it('drops a client that stops reading once its unsent bytes pass the budget', async () => {
    const budget = 256 * 1024
    const server = await startServer({ maxBufferedBytes: budget, maxMessagesPerSecond: 0 })
    const writer = await connectSynced(server.url, 'firehose')
    const healthyReader = await connectSynced(server.url, 'firehose')

    const stalled = new WebSocket(`${server.url}/firehose`)
    await new Promise((resolve) => stalled.once('open', resolve))
    // Stop reading: the kernel buffers fill, then ws starts buffering in user space.
    ;(stalled as unknown as { _socket: Socket })._socket.pause()
    await waitFor(() => server.app.connectionCount === 3)

    const chunk = 'y'.repeat(32 * 1024)
    let sent = 0
    // Bounded: at most 64 MiB, stops as soon as the server drops the stalled client.
    while (sent < 64 * 1024 * 1024 && server.app.connectionCount === 3) {
      writer.text.insert(writer.text.length, chunk)
      sent += chunk.length
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => server.app.connectionCount === 2, { what: 'stalled client to be dropped' })
    const drops = await server.app.metrics.registry.getSingleMetricAsString('yws_slow_client_drops_total')
    expect(drops).toMatch(/yws_slow_client_drops_total\{[^}]*\} 1/)
    const closes = await server.app.metrics.registry.getSingleMetricAsString('yws_connection_closes_total')
    expect(closes).toContain('reason="tryAgainLater"')
    // Memory stayed bounded: at the cut-off the unsent bytes were within the budget.
    const cutOff = server.logs.find((line) => line.msg === 'client too slow, closing')
    expect(cutOff?.buffered).toBeLessThanOrEqual(budget)

    // The healthy reader received everything and is still connected.
    await waitFor(() => healthyReader.text.length === writer.text.length, { timeoutMs: 20_000 })
    expect(healthyReader.provider.wsconnected).toBe(true)
    stalled.terminate()
  })
})
