/**
 * A client pushing several big messages back to back is slowed down by TCP (the server stops
 * reading its socket while the backlog is full), not closed with 1013; its messages all get
 * in, in order, and a paused client is not taken for dead by the heartbeat.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { connectSynced } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const MiB = 1024 * 1024

/** `count` updates, each inserting `chars` characters at the end of text 't'. */
function bigUpdates(count: number, chars: number): { updates: Uint8Array[]; text: string } {
  const source = new Y.Doc()
  const updates: Uint8Array[] = []
  source.on('update', (update: Uint8Array) => updates.push(update))
  const text = source.getText('t')
  for (let i = 0; i < count; i++) text.insert(text.length, String.fromCharCode(97 + i).repeat(chars))
  return { updates, text: text.toString() }
}

describe('inbound backpressure', () => {
  it('takes 5 x 4 MiB updates sent back to back: no 1013, all stored, a provider sees them', async () => {
    const dataDir = await tempDir('yws-inbound-')
    const limits = { dataDir, maxMessageBytes: 5 * MiB, maxBufferedBytes: 5 * MiB }
    const server = await startServer(limits, { keepOpen: true })
    const { updates, text } = bigUpdates(5, 4 * MiB - 1024)
    const { ws, closed } = await openSocket(`${server.url}/pushed`)
    let closeCode: number | undefined
    void closed.then((code) => {
      closeCode = code
    })
    for (const update of updates) ws.send(encodeUpdate(update))
    const reader = await connectSynced(server.url, 'pushed')
    await waitFor(() => reader.text.length === text.length || closeCode !== undefined, {
      what: 'the pushed text to reach a provider',
      timeoutMs: 60_000,
    })
    expect(closeCode).toBeUndefined()
    expect(reader.text.toString()).toBe(text)
    const closes = await server.app.metrics.registry.getSingleMetricAsString('yws_connection_closes_total')
    expect(closes).not.toContain('reason="tryAgainLater"')
    reader.destroy()
    ws.close()
    await server.close()

    const again = await startServer(limits)
    const late = await connectSynced(again.url, 'pushed')
    expect(late.text.toString()).toBe(text)
  }, 90_000)

  it('keeps a paused client alive through heartbeats and resumes it when the backlog drains', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let changes = 0
    const server = await startServer(
      // 500 ms, not less: an unanswered ping ends the connection one interval later, and on a
      // loaded 2-core box this test process itself can answer a ping 100+ ms late (1006 seen
      // at load 25 with 100 ms), which is not what this test is about.
      { maxMessageBytes: MiB, maxBufferedBytes: MiB, heartbeatMs: 500 },
      {
        hooks: [
          {
            // The first change holds the connection's queue until the test releases it.
            onChange: () => {
              changes += 1
              return changes === 1 ? gate : undefined
            },
          },
        ],
      },
    )
    const { updates, text } = bigUpdates(4, 900 * 1024)
    const { ws, closed } = await openSocket(`${server.url}/held`)
    let closeCode: number | undefined
    void closed.then((code) => {
      closeCode = code
    })
    let pings = 0
    ws.on('ping', () => {
      pings += 1
    })
    for (const update of updates) ws.send(encodeUpdate(update))
    await waitFor(() => changes === 1 || closeCode !== undefined, { what: 'the first change to be held' })
    // Past the backlog the server stops reading: the pongs to these pings wait unread.
    const from = pings
    await waitFor(() => pings >= from + 3 || closeCode !== undefined, {
      what: 'pings while paused',
      timeoutMs: 10_000,
    })
    expect(closeCode).toBeUndefined()
    release()
    const reader = await connectSynced(server.url, 'held')
    await waitFor(() => reader.text.length === text.length || closeCode !== undefined, {
      what: 'the held text to reach a provider',
    })
    expect(closeCode).toBeUndefined()
    expect(reader.text.toString()).toBe(text)
    ws.close()
  }, 60_000)
})
