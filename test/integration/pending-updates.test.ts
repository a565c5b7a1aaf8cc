/**
 * Updates whose dependencies have not arrived yet (Yjs keeps them as pending structs and
 * emits nothing) must still be stored, broadcast and relayed as received, so that any order
 * of arrival, an unload, a restart or a second instance converges (INTERFACE.md promise 1).
 * The two updates are the exact inputs of issue 10: client 1 inserts "A", then "B" after it.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeSyncStep1, encodeUpdate } from '../../src/protocol/messages.js'
import { connectSynced } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

/** "B" inserted after client 1's "A": cannot be integrated without UPDATE_A. */
const UPDATE_B = Buffer.from('01010101840100014200', 'hex')
/** Client 1 inserts "A" into text "t". */
const UPDATE_A = Buffer.from('0101010004010174014100', 'hex')

const SYNC = 0
const SYNC_STEP2 = 1

/**
 * Sends one update over a raw socket, then a sync step 1: the server handles a connection's
 * messages in order, so its step-2 reply proves the update was handled. Returns that reply's
 * payload (what the server holds, pending structs included).
 */
async function sendUpdate(url: string, docName: string, update: Uint8Array): Promise<Uint8Array> {
  const { ws, closed } = await openSocket(`${url}/${docName}`)
  const reply = new Promise<Uint8Array>((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (data[0] === SYNC && data[1] === SYNC_STEP2) resolve(new Uint8Array(data))
    })
  })
  ws.send(encodeUpdate(update))
  ws.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
  const answer = await reply
  ws.close()
  await closed
  return answer
}

async function waitUnloaded(server: TestServer, docName: string): Promise<void> {
  await waitFor(() => server.app.registry.get(docName) === undefined, { what: `${docName} to unload` })
}

function roomText(server: TestServer, docName: string): string | undefined {
  return server.app.registry.get(docName)?.doc.getText('t').toString()
}

describe('updates that cannot be integrated yet', () => {
  it('standalone: "B" alone, room unloads, then "A": a fresh reader gets "AB"', async () => {
    const server = await startServer()
    const reply = await sendUpdate(server.url, 'pending', UPDATE_B)
    // The server answers a joiner with what it holds, pending structs included.
    expect(Buffer.from(reply).includes(UPDATE_B.subarray(2, 8))).toBe(true)
    await waitUnloaded(server, 'pending')
    await sendUpdate(server.url, 'pending', UPDATE_A)
    await waitUnloaded(server, 'pending')
    const reader = await connectSynced(server.url, 'pending')
    expect(reader.text.toString()).toBe('AB')
  })

  it('standalone: "B" alone, server restarts, then "A": a fresh reader gets "AB"', async () => {
    const first = await startServer({}, { keepOpen: true })
    await sendUpdate(first.url, 'pending', UPDATE_B)
    await first.close()
    const second = await startServer({ dataDir: first.config.dataDir })
    await sendUpdate(second.url, 'pending', UPDATE_A)
    const reader = await connectSynced(second.url, 'pending')
    expect(reader.text.toString()).toBe('AB')
    reader.destroy()
    await waitUnloaded(second, 'pending')
    const later = await connectSynced(second.url, 'pending')
    expect(later.text.toString()).toBe('AB')
  })

  it('standalone: an open client receives "B" as soon as it is sent, then "AB"', async () => {
    const server = await startServer()
    const watcher = await connectSynced(server.url, 'pending-live')
    await sendUpdate(server.url, 'pending-live', UPDATE_B)
    await waitFor(() => watcher.doc.store.pendingStructs !== null, { what: 'the watcher to hold "B"' })
    await sendUpdate(server.url, 'pending-live', UPDATE_A)
    await waitFor(() => watcher.text.toString() === 'AB', { what: 'the watcher to show "AB"' })
  })

  it('cluster: "B" to instance 1, "A" to instance 2: both and fresh clients show "AB"', async () => {
    const prefix = uniquePrefix()
    const [one, two] = await Promise.all(
      ['p1', 'p2'].map((id) =>
        startServer({ redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, instanceId: `${prefix}-${id}` }),
      ),
    )
    // Both instances have the doc open (a stock client on each holds it).
    const holders = await Promise.all([one!, two!].map((s) => connectSynced(s.url, 'pending-cluster')))
    await sendUpdate(one!.url, 'pending-cluster', UPDATE_B)
    // Instance 2 must hold "B" before "A" arrives there, or this is just the in-order case.
    await waitFor(() => two!.app.registry.get('pending-cluster')?.doc.store.pendingStructs != null, {
      what: 'instance 2 to hold the relayed "B"',
    })
    await sendUpdate(two!.url, 'pending-cluster', UPDATE_A)
    for (const server of [one!, two!]) {
      await waitFor(() => roomText(server, 'pending-cluster') === 'AB', { what: 'instances to show "AB"' })
    }
    for (const holder of holders) {
      await waitFor(() => holder.text.toString() === 'AB', { what: 'open clients to show "AB"' })
    }
    for (const server of [one!, two!]) {
      const fresh = await connectSynced(server.url, 'pending-cluster')
      expect(fresh.text.toString()).toBe('AB')
    }
  })
})
