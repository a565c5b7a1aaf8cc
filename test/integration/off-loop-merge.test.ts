/**
 * A big update into a room that holds its doc encoded is not applied on the event loop: the
 * doc moves to the big-doc worker (room/big-doc-session.ts), which applies it; it is fanned
 * out as received once applied, stored, in the sender's order, and never lost to an unload.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeSyncStep1, encodeUpdate } from '../../src/protocol/messages.js'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const SYNC = 0
const SYNC_STEP2 = 1

/** A 300 KB paste, then a small edit that depends on it (same client). */
function pasteThenEdit(): { paste: Uint8Array; edit: Uint8Array; text: string } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  doc.getText('t').insert(0, 'pasted '.repeat(45_000))
  doc.getText('t').insert(7, '[edit]')
  return { paste: updates[0]!, edit: updates[1]!, text: doc.getText('t').toString() }
}

/** Sends frames on a raw socket, then a step 1; resolves with the server's step 2 (all handled). */
async function send(server: TestServer, docName: string, frames: Uint8Array[], close = true) {
  const { ws, closed } = await openSocket(`${server.url}/${docName}`)
  const answered = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (data[0] === SYNC && data[1] === SYNC_STEP2) resolve()
    })
  })
  for (const frame of frames) ws.send(frame)
  if (!close) return { ws, closed }
  ws.send(encodeSyncStep1(new Uint8Array([0])))
  await answered
  ws.close()
  await closed
  return { ws, closed }
}

describe('big updates into an encoded room', () => {
  it('are merged off the loop, fanned out and stored in the sender’s order', async () => {
    const server = await startServer()
    const reader = await connectSynced(server.url, 'paste')
    const { paste, edit, text } = pasteThenEdit()
    await send(server, 'paste', [encodeUpdate(paste), encodeUpdate(edit)])
    await waitFor(() => reader.text.toString() === text, { what: 'the paste and the edit' })
    const room = server.app.registry.get('paste')!
    // The small edit came after the merge: the room built its Y.Doc for it, with both.
    expect(room.doc.getText('t').toString()).toBe(text)

    reader.destroy()
    await server.close()
    const again = await startServer({ dataDir: server.config.dataDir })
    const fresh = await connectSynced(again.url, 'paste')
    expect(fresh.text.toString()).toBe(text)
  })

  it('leave the room encoded, and a new client syncs it from there', async () => {
    const server = await startServer()
    const { paste } = pasteThenEdit()
    const { ws } = await send(server, 'encoded', [encodeUpdate(paste)], false)
    await waitFor(
      () => (server.app.registry.get('encoded')?.encodeStateAsUpdate().byteLength ?? 0) > 256 * 1024,
    )
    const room = server.app.registry.get('encoded')!
    expect(room.content.live).toBe(false)
    const reader = await connectSynced(server.url, 'encoded')
    expect(reader.text.length).toBe(45_000 * 7)
    expect(room.content.live).toBe(false)
    ws.close()
  })

  it('is stored before its room unloads, however soon the unload comes', async () => {
    const server = await startServer()
    const { paste } = pasteThenEdit()
    const room = await server.app.registry.acquire('leaving')
    const sender = { id: 'raw', readOnly: false, awarenessIds: new Set<number>(), send() {}, close() {} }
    room.addConnection(sender)
    const merging = room.handleMessage(sender, { kind: 'update', update: paste })
    expect(merging).toBeInstanceOf(Promise)
    room.removeConnection(sender)
    server.app.registry.release(room)
    await server.app.registry.unload('leaving')
    const reader = await connectSynced(server.url, 'leaving')
    expect(reader.text.length).toBe(45_000 * 7)
  })

  it('converge with small edits made while they merge', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'mixed')
    const { paste, text } = pasteThenEdit()
    const { ws } = await send(server, 'mixed', [encodeUpdate(paste)], false)
    for (let i = 0; i < 20; i++) ada.text.insert(0, 'a')
    const bob = await connectSynced(server.url, 'mixed')
    await waitFor(() => ada.text.length === 20 + 45_000 * 7 && bob.text.length === ada.text.length)
    await waitForConvergence([ada.doc, bob.doc])
    expect(text.length).toBe(45_000 * 7 + 6)
    ws.close()
  })
})
