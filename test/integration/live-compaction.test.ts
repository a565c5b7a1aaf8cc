/**
 * Compaction of an open doc from its room's live state (issue 16), through a real server:
 * automatic compactions while a stock provider types take the room's state (not the log),
 * the log shrinks, and a restarted server serves exactly the typed document; an update held
 * pending (its dependency missing) survives a live compaction and completes after a restart.
 */
import { describe, expect, it } from 'vitest'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { liveStateOf } from '../../src/storage/live-state.js'
import { connectSynced } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

/** Counts the live states the store asked for (wrapping the app's own source). */
function countLiveStates(server: TestServer): { count: number } {
  const asked = { count: 0 }
  const source = liveStateOf((name) => server.app.registry.get(name))
  server.app.store.useLiveState((name) => {
    const state = source(name)
    if (state) asked.count += 1
    return state
  })
  return asked
}

async function logEntries(server: TestServer, docName: string): Promise<number> {
  await server.app.store.flush()
  for await (const stats of server.app.store.listDocs({ prefix: docName })) {
    if (stats.docName === docName) return stats.logEntries
  }
  return 0
}

describe('compaction from the live document', () => {
  it('automatic compactions of an open doc use the room state; a restart serves the same doc', async () => {
    const first = await startServer({ compactLogEntries: 40, flushIntervalMs: 10 }, { keepOpen: true })
    const asked = countLiveStates(first)
    const writer = await connectSynced(first.url, 'typed')
    for (let i = 0; i < 300; i++) {
      writer.text.insert(Math.floor((i * 7) % (writer.text.length + 1)), String.fromCharCode(97 + (i % 26)))
      if (i % 9 === 8) writer.text.delete(Math.floor(writer.text.length / 2), 1)
    }
    const expected = writer.text.toString()
    await waitFor(() => first.app.registry.get('typed')?.doc.getText('t').toString() === expected, {
      what: 'the room to hold every keystroke',
    })
    await waitFor(async () => asked.count > 0 && (await logEntries(first, 'typed')) < 40, {
      what: 'a live compaction to shrink the log',
    })
    writer.destroy()
    await first.close()
    const second = await startServer({ dataDir: first.config.dataDir })
    const reader = await connectSynced(second.url, 'typed')
    expect(reader.text.toString()).toBe(expected)
  })

  it('an update held pending survives a live compaction and completes after a restart', async () => {
    const UPDATE_B = Buffer.from('01010101840100014200', 'hex') // "B" after client 1's "A"
    const UPDATE_A = Buffer.from('0101010004010174014100', 'hex')
    const first = await startServer({}, { keepOpen: true })
    const asked = countLiveStates(first)
    const holder = await connectSynced(first.url, 'held')
    holder.text.insert(0, 'x')
    const { ws, closed } = await openSocket(`${first.url}/held`)
    ws.send(encodeUpdate(UPDATE_B))
    await waitFor(() => first.app.registry.get('held')?.doc.store.pendingStructs != null, {
      what: 'the room to hold "B" pending',
    })
    const result = await first.app.store.compact('held')
    expect([result.compacted, asked.count]).toEqual([true, 1])
    expect(await logEntries(first, 'held')).toBe(0)
    ws.close()
    await closed
    holder.destroy()
    await first.close()
    const second = await startServer({ dataDir: first.config.dataDir })
    const reader = await connectSynced(second.url, 'held')
    const sender = await openSocket(`${second.url}/held`)
    sender.ws.send(encodeUpdate(UPDATE_A))
    await waitFor(() => reader.text.toString() === 'xAB' || reader.text.toString() === 'ABx', {
      what: 'the reader to show "A", "B" and "x"',
    })
    sender.ws.close()
    await sender.closed
  })
})
