/**
 * The bench's light client against our real server: raw frames join, pre-encoded trace
 * updates are accepted and integrated (a stock provider sees the text), readers time them
 * from headers, and a fresh probe reads back every writer's clock. Guards the bench against
 * protocol drift in the server.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { BulkTrace } from '../../bench/light/bulk.js'
import { LightClient } from '../../bench/light/client.js'
import { Trace } from '../../bench/light/trace.js'
import { scanUpdate } from '../../bench/light/wire.js'
import { connectSynced } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

function light(
  url: string,
  room: string,
  onUpdate?: ConstructorParameters<typeof LightClient>[3],
): LightClient {
  const c = new LightClient(url, room, 'y-websocket', onUpdate)
  onTestFinished(() => c.close())
  return c
}

describe('bench light client against our server', () => {
  it('joins, sends trace updates the server integrates, and times them from headers', async () => {
    const server = await startServer()
    const lastSeen = new Map<number, number>()
    const reader = light(server.url, 'light-a', (buf, start, end) =>
      scanUpdate(buf, start, end, (client, clock) => lastSeen.set(client, clock)),
    )
    const writer = light(server.url, 'light-a')
    await reader.connect(10_000)
    await writer.connect(10_000)
    const trace = new Trace(123_456, 1)
    for (const msg of trace.nextMessages(50)) writer.send(msg)
    await waitFor(() => lastSeen.get(123_456) === 49, { what: 'reader to see clock 49' })

    // A stock provider holds the same 50 characters: the server integrated every update.
    const stock = await connectSynced(server.url, 'light-a')
    await waitFor(() => stock.doc.getText('text').length === 50, { what: 'stock provider text' })

    // A probe collects every clock the server sends on join.
    const probe = light(server.url, 'light-a')
    probe.seen = new Map()
    await probe.connect(10_000)
    await probe.whenSeen(123_456, 50, 10_000)
  })

  it('pushes a bulk doc in several frames that a fresh client then syncs whole', async () => {
    const server = await startServer()
    const pusher = light(server.url, 'light-big')
    await pusher.connect(10_000)
    const bulk = new BulkTrace(777, 2, 4096)
    const msgs = bulk.messages(600_000, 128 * 1024)
    expect(msgs.length).toBeGreaterThan(3)
    for (const m of msgs) await pusher.sendAndFlush(m)
    const fresh = light(server.url, 'light-big')
    fresh.seen = new Map()
    await fresh.connect(10_000)
    await fresh.whenSeen(777, bulk.clock, 20_000, 500)
  })
})
