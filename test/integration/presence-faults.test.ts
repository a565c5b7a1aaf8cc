/**
 * Issue 10 part 4: presence must tell the truth. Real y-websocket providers; a raw socket
 * only where a stock client's timing (a slow peer's late echo) has to be reproduced exactly.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { decodeAwareness, encodeAwareness } from '../../src/protocol/messages.js'
import { connectSynced, type TestClient } from '../helpers/clients.js'
import { metricValue } from '../helpers/prometheus.js'
import { openSocket } from '../helpers/raw-socket.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const sees = (viewer: TestClient, subject: TestClient, name?: string): boolean => {
  const state = viewer.provider.awareness.getStates().get(subject.doc.clientID) as {
    user?: { name?: string }
  }
  return state !== undefined && (name === undefined || state.user?.name === name)
}

/** Awaits `check` and returns how long it took, in ms. */
async function timeUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<number> {
  const started = performance.now()
  await waitFor(check, { what, timeoutMs, intervalMs: 5 })
  return Math.round(performance.now() - started)
}

describe('presence after a reconnect (issue 10)', () => {
  it('shows a client that reconnects with an unchanged awareness clock within 1 s', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'rejoin')
    const bob = await connectSynced(server.url, 'rejoin')
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(() => sees(bob, ada, 'Ada'), { what: 'Bob to see Ada' })
    const clockBefore = ada.provider.awareness.meta.get(ada.doc.clientID)?.clock

    // A network blip: the socket goes, the provider keeps its state and its clock.
    ada.provider.disconnect()
    await waitFor(() => !sees(bob, ada), { what: 'Ada to leave' })
    expect(ada.provider.awareness.meta.get(ada.doc.clientID)?.clock).toBe(clockBefore)
    ada.provider.connect()
    const ms = await timeUntil(() => sees(bob, ada, 'Ada'), 'Bob to see Ada again')
    console.info(`[figure] reconnect with unchanged clock: visible to a peer after ${ms} ms`)
    expect(ms).toBeLessThan(1000)
    expect(await metricValue(server.app.metrics.rejectedInputs, { reason: 'awareness-spoof' })).toBe(0)
  })

  it('shows everyone to everyone within 1 s after a server restart', async () => {
    const dataDir = await tempDir('yws-presence-')
    const first = await startServer({ dataDir }, { keepOpen: true })
    const ada = await connectSynced(first.url, 'restart')
    const bob = await connectSynced(first.url, 'restart')
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    bob.provider.awareness.setLocalStateField('user', { name: 'Bob' })
    await waitFor(() => sees(bob, ada, 'Ada') && sees(ada, bob, 'Bob'), { what: 'both to see each other' })

    await first.close()
    await waitFor(() => !ada.provider.wsconnected && !bob.provider.wsconnected, { what: 'both disconnected' })
    await startServer({ dataDir, port: first.port })
    const ms = await timeUntil(() => sees(bob, ada, 'Ada') && sees(ada, bob, 'Bob'), 'both visible again')
    console.info(
      `[figure] after a server restart: peers visible ${ms} ms after it listens (incl. reconnect backoff)`,
    )
    expect(ms).toBeLessThan(1000)
  })

  it('shows a client that moves to another instance after a drain within 1 s, on every instance', async () => {
    const redisPrefix = uniquePrefix()
    const [a, b] = await Promise.all(
      ['p0', 'p1'].map((instanceId) =>
        startServer(
          { redisUrl: SHARED_REDIS_URL, redisPrefix, instanceId },
          { keepOpen: instanceId === 'p0' },
        ),
      ),
    )
    const bob = await connectSynced(b!.url, 'moves')
    const ada = await connectSynced(a!.url, 'moves')
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(() => sees(bob, ada, 'Ada'), { what: 'Bob (instance b) to see Ada (instance a)' })

    await a!.close()
    await waitFor(() => !sees(bob, ada), { what: 'Ada to disappear when a drains' })
    ada.provider.disconnect()
    // Her load balancer sends her to instance b: same doc, same awareness, same clock.
    const moved = new WebsocketProvider(b!.url, 'moves', ada.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      awareness: ada.provider.awareness,
    })
    onTestFinished(() => moved.destroy())
    const ms = await timeUntil(() => sees(bob, ada, 'Ada'), 'Bob to see Ada on instance b')
    console.info(`[figure] moved to another instance after a drain: visible after ${ms} ms`)
    expect(ms).toBeLessThan(1000)
  })

  it('a slow peer echoing a departed client does not take its presence over', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'late-echo')
    const bob = await connectSynced(server.url, 'late-echo')
    const slow = await openSocket(`${server.url}/late-echo`)
    const replies: Uint8Array[] = []
    slow.ws.on('message', (data: Buffer) => replies.push(new Uint8Array(data)))
    const removals = () => replies.filter((bytes) => removalOf(bytes, ada.doc.clientID)).length
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(() => sees(bob, ada, 'Ada'), { what: 'Bob to see Ada' })
    const adaId = ada.doc.clientID
    const clock = ada.provider.awareness.meta.get(adaId)?.clock ?? 0

    ada.provider.disconnect()
    await waitFor(() => !sees(bob, ada) && removals() === 1, { what: 'Ada to leave' })
    // The slow peer's echo of Ada's last state arrives only now, after Ada left.
    slow.ws.send(encodeAwareness(awarenessBody(adaId, clock, { user: { name: 'Ada' } })))
    // The server answers a not-newer state of an absent id with a removal at that clock:
    // an echoing peer drops the id, a returning owner re-announces itself.
    await waitFor(() => removals() === 2, { what: 'the reply to the echo' })
    expect(server.app.registry.get('late-echo')?.awareness.getStates().has(adaId)).toBe(false)
    expect(sees(bob, ada)).toBe(false)

    ada.provider.connect()
    const ms = await timeUntil(() => sees(bob, ada, 'Ada'), 'Bob to see Ada again')
    expect(ms).toBeLessThan(1000)
    // Ada owns her state again: her cursor moves for Bob.
    ada.provider.awareness.setLocalStateField('cursor', { anchor: 1, head: 1 })
    await waitFor(
      () => (bob.provider.awareness.getStates().get(adaId) as { cursor?: unknown })?.cursor !== undefined,
    )
    expect(await metricValue(server.app.metrics.rejectedInputs, { reason: 'awareness-spoof' })).toBe(0)
    slow.ws.close()
  })
})

describe('awareness echoes are not attacks (issue 10)', () => {
  it('five stock editors moving cursors count no awareness-spoof', async () => {
    const server = await startServer()
    const editors: TestClient[] = []
    for (let i = 0; i < 5; i++) editors.push(await connectSynced(server.url, 'echoes'))
    for (const [i, editor] of editors.entries()) {
      editor.provider.awareness.setLocalStateField('user', { name: `e${i}` })
    }
    for (let move = 1; move <= 3; move++) {
      for (const editor of editors) editor.provider.awareness.setLocalStateField('cursor', { anchor: move })
      await waitFor(
        () =>
          editors.every((viewer) =>
            editors.every(
              (other) =>
                (
                  viewer.provider.awareness.getStates().get(other.doc.clientID) as {
                    cursor?: { anchor: number }
                  }
                )?.cursor?.anchor === move,
            ),
          ),
        { what: `every editor to see cursor move ${move}` },
      )
    }
    // Stock clients re-broadcast what they receive: the server got many echoes...
    const awarenessIn = await metricValue(server.app.metrics.messagesIn, { type: 'awareness' })
    expect(awarenessIn).toBeGreaterThan(5 * 4)
    // ...and none of them is an attack.
    expect(await metricValue(server.app.metrics.rejectedInputs, { reason: 'awareness-spoof' })).toBe(0)
  })
})

function awarenessBody(clientId: number, clock: number, state: unknown): Uint8Array {
  const body = encoding.createEncoder()
  encoding.writeVarUint(body, 1)
  encoding.writeVarUint(body, clientId)
  encoding.writeVarUint(body, clock)
  encoding.writeVarString(body, JSON.stringify(state))
  return encoding.toUint8Array(body)
}

/** Whether a server frame is an awareness message removing `clientId`. */
function removalOf(frame: Uint8Array, clientId: number): boolean {
  if (frame[0] !== 1) return false
  // Skip the message type and the varuint length of the body (both < 128 bytes here).
  const decoded = decodeAwareness(frame.subarray(2))
  return (
    decoded.ok &&
    decoded.message.kind === 'awareness' &&
    decoded.message.entries.some((entry) => entry.clientId === clientId && entry.state === null)
  )
}
