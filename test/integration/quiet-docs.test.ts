/**
 * An open doc nobody edits is held encoded (doc-holder.ts): it serves new clients, the
 * relay and reads from the encoded state, and builds its Y.Doc again for the next edit.
 * Sweeps are run by hand here (RoomRegistry.sweepQuietDocs), two per drop, as the timer would.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

function textOf(update: Uint8Array): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

function quiet(server: TestServer): number {
  server.app.registry.sweepQuietDocs()
  return server.app.registry.sweepQuietDocs()
}

describe('quiet open docs are held encoded', () => {
  it('serves a new client without building the Y.Doc, and takes edits again', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'quiet')
    ada.text.insert(0, 'hello')
    await waitFor(() => server.app.registry.get('quiet')?.doc.getText('t').toString() === 'hello')
    expect(quiet(server)).toBe(1)
    const room = server.app.registry.get('quiet')!
    expect(room.content.live).toBe(false)

    const bob = await connectSynced(server.url, 'quiet')
    expect(bob.text.toString()).toBe('hello')
    expect(room.content.live).toBe(false)

    bob.text.insert(5, ' world')
    await waitFor(() => ada.text.toString() === 'hello world', { what: 'the edit after the drop' })
    expect(room.content.live).toBe(true)
    await waitForConvergence([ada.doc, bob.doc])

    // Stored: a fresh server on the same data serves it.
    ada.destroy()
    bob.destroy()
    await server.close()
    const again = await startServer({ dataDir: server.config.dataDir })
    const carol = await connectSynced(again.url, 'quiet')
    expect(carol.text.toString()).toBe('hello world')
  })

  it('cuts a big quiet doc’s first sync into pieces on the worker pool', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'big-quiet')
    const chunk = 'abcdefghij'.repeat(20_000)
    for (let i = 0; i < 4; i++) ada.text.insert(ada.text.length, chunk)
    await waitFor(() => server.app.registry.get('big-quiet')?.doc.getText('t').length === 4 * chunk.length)
    quiet(server)
    const room = server.app.registry.get('big-quiet')!
    expect(room.content.live).toBe(false)
    expect(room.encodeStateAsUpdate().byteLength).toBeGreaterThan(256 * 1024)

    const bob = await connectSynced(server.url, 'big-quiet')
    expect(bob.text.toString()).toBe(ada.text.toString())
    // Answered from the encoded state: the room never built its Y.Doc for it.
    expect(room.content.live).toBe(false)
  })

  it('keeps the Y.Doc of a doc a direct connection holds', async () => {
    const server = await startServer()
    const direct = await server.app.openDirectConnection('pinned')
    await direct.transact((doc) => doc.getText('t').insert(0, 'server'))
    const doc = direct.doc
    quiet(server)
    expect(server.app.registry.get('pinned')?.content.live).toBe(true)
    expect(direct.doc).toBe(doc)
    const ada = await connectSynced(server.url, 'pinned')
    expect(ada.text.toString()).toBe('server')
    await direct.disconnect()
    quiet(server)
    expect(server.app.registry.get('pinned')?.content.live).toBe(false)
  })

  it('compacts an open doc from the room’s state, live or encoded', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'compact-live')
    for (let i = 0; i < 50; i++) ada.text.insert(ada.text.length, `${i} `)
    const expected = ada.text.toString()
    await waitFor(() => server.app.registry.get('compact-live')?.doc.getText('t').toString() === expected)
    const room = server.app.registry.get('compact-live')!
    const live = await room.compactionState()
    expect(live && textOf(live)).toBe(expected)
    const first = await server.app.store.compact('compact-live')
    expect(first.compacted).toBe(true)

    ada.text.insert(0, '>')
    await waitFor(() => room.doc.getText('t').toString() === `>${expected}`)
    quiet(server)
    expect(room.content.live).toBe(false)
    expect(room.compactionState()).toBe(room.content.encodedDoc?.update)
    expect((await server.app.store.compact('compact-live')).compacted).toBe(true)

    ada.destroy()
    await server.close()
    const again = await startServer({ dataDir: server.config.dataDir })
    const bob = await connectSynced(again.url, 'compact-live')
    expect(bob.text.toString()).toBe(`>${expected}`)
  })
})
