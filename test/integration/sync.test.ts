import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectClient, connectSynced, waitForConvergence } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('sync between stock y-websocket clients', () => {
  it('many providers editing one doc concurrently converge', async () => {
    const server = await startServer()
    const clients = await Promise.all(Array.from({ length: 8 }, () => connectSynced(server.url, 'shared')))
    for (let round = 0; round < 20; round++) {
      for (const [i, client] of clients.entries()) {
        const text = client.text
        text.insert(Math.floor(Math.random() * (text.length + 1)), `${i}:${round} `)
        if (round % 5 === 4 && text.length > 3) text.delete(0, 2)
      }
    }
    await waitForConvergence(clients.map((c) => c.doc))
    const expected = clients[0]!.text.toString()
    expect(expected.length).toBeGreaterThan(0)
    for (const client of clients) expect(client.text.toString()).toBe(expected)
  })

  it('keeps two docs isolated', async () => {
    const server = await startServer()
    const a = await connectSynced(server.url, 'doc-a')
    const b = await connectSynced(server.url, 'doc-b')
    const a2 = await connectSynced(server.url, 'doc-a')
    a.text.insert(0, 'only in a')
    await waitFor(() => a2.text.toString() === 'only in a')
    const b2 = await connectSynced(server.url, 'doc-b')
    expect(b.text.toString()).toBe('')
    expect(b2.text.toString()).toBe('')
  })

  it('answers a late joiner with the stored document', async () => {
    const server = await startServer()
    const writer = await connectSynced(server.url, 'late/join')
    writer.text.insert(0, 'before join')
    const reader = connectClient(server.url, 'late/join')
    await waitFor(() => reader.text.toString() === 'before join')
    expect(Y.encodeStateAsUpdate(reader.doc)).toEqual(Y.encodeStateAsUpdate(writer.doc))
  })
})
