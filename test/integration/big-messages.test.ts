/**
 * Big messages are validated on a worker thread; the connection's messages must still reach
 * the room in the order they were sent, and a bad big message must still close only its
 * own connection.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { OFF_THREAD_VALIDATION_BYTES } from '../../src/transport/connection.js'
import { connectSynced } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('big messages', () => {
  it('keeps order: a big update then small ones arrive in the room in sequence', async () => {
    const server = await startServer()
    const watcher = await connectSynced(server.url, 'ordered')
    const seen: string[] = []
    watcher.text.observe(() => seen.push(watcher.text.toString().slice(0, 5)))

    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'B'.repeat(OFF_THREAD_VALIDATION_BYTES + 1000))
    for (let i = 0; i < 5; i++) source.getText('t').insert(0, String(i))
    expect(updates[0]!.byteLength).toBeGreaterThan(OFF_THREAD_VALIDATION_BYTES)

    const { ws } = await openSocket(`${server.url}/ordered`)
    for (const update of updates) ws.send(encodeUpdate(update))
    await waitFor(() => watcher.text.toString() === source.getText('t').toString())
    // The big update was applied first, then each small one on top of it.
    expect(seen).toEqual(['BBBBB', '0BBBB', '10BBB', '210BB', '3210B', '43210'])
    ws.close()
  })

  it('closes a connection whose big update does not decode, and nothing of it gets in', async () => {
    const server = await startServer()
    const editor = await connectSynced(server.url, 'big-garbage')
    editor.text.insert(0, 'safe')
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, 2)
    const garbage = new Uint8Array(OFF_THREAD_VALIDATION_BYTES + 10).fill(0xee)
    encoding.writeVarUint8Array(encoder, garbage)
    const { ws, closed } = await openSocket(`${server.url}/big-garbage`)
    ws.send(encoding.toUint8Array(encoder))
    ws.send(Uint8Array.of(3)) // queued behind the big one; never processed
    expect(await closed).toBe(1002)
    const late = await connectSynced(server.url, 'big-garbage')
    expect(late.text.toString()).toBe('safe')
  })
})
