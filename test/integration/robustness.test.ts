/**
 * Bad input closes one connection and touches nothing else: the room, its other clients
 * and the stored document stay exactly as they were.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

function garbageUpdateFrame(): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarUint8Array(encoder, Uint8Array.of(3, 250, 7, 1, 1, 9, 9, 9))
  return encoding.toUint8Array(encoder)
}

const cases: [string, (ws: WebSocket) => void, number][] = [
  ['garbage after a sync header', (ws) => ws.send(Uint8Array.of(0x00, 0x13, 0x37, 0x00, 0x42)), 1002],
  ['a truncated varint', (ws) => ws.send(Uint8Array.of(0x80, 0x80)), 1002],
  ['an update that does not decode', (ws) => ws.send(garbageUpdateFrame()), 1002],
  [
    'a truncated update frame',
    (ws) => ws.send(encodeUpdate(Y.encodeStateAsUpdate(docWithText('zz'))).slice(0, 6)),
    1002,
  ],
  ['a text frame', (ws) => ws.send('{"hello":"world"}'), 1003],
  ['an empty message', (ws) => ws.send(new Uint8Array()), 1002],
]

function docWithText(text: string): Y.Doc {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

describe('malformed input', () => {
  it.each(cases)('%s closes only that connection (expects %i)', async (_name, send, expectedCode) => {
    const server = await startServer()
    const editor = await connectSynced(server.url, 'victim')
    const watcher = await connectSynced(server.url, 'victim')
    editor.text.insert(0, 'precious')
    await waitFor(() => watcher.text.toString() === 'precious')
    const before = Y.encodeStateAsUpdate(editor.doc)

    const { ws: attacker, closed } = await openSocket(`${server.url}/victim`)
    send(attacker)
    expect(await closed).toBe(expectedCode)

    // The room still works for everyone else, and nothing of the attack got in.
    editor.text.insert(8, '!')
    await waitFor(() => watcher.text.toString() === 'precious!')
    expect(watcher.provider.wsconnected).toBe(true)
    await server.app.store.flush()
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await server.app.store.load('victim')).update)
    expect(stored.getText('t').toString()).toBe('precious!')
    expect(Y.encodeStateAsUpdate(editor.doc).length).toBeGreaterThan(before.length)
    const metrics = await server.app.metrics.registry.getSingleMetricAsString('yws_rejected_inputs_total')
    expect(metrics).toMatch(/yws_rejected_inputs_total\{reason="[a-z-]+"[^}]*\} 1/)
  })

  it('ignores unknown message types without closing', async () => {
    const server = await startServer()
    const { ws } = await openSocket(`${server.url}/unknown-types`)
    ws.send(Uint8Array.of(99, 1, 2, 3))
    ws.send(Uint8Array.of(2, 0, 0)) // auth message: only servers send it
    // A query-awareness after them is still answered, so the connection is alive.
    const answered = new Promise<Buffer>((resolve) =>
      ws.on('message', (data: Buffer) => {
        if (data[0] === 1) resolve(data)
      }),
    )
    ws.send(Uint8Array.of(3))
    expect((await answered)[0]).toBe(1)
    expect(ws.readyState).toBe(WebSocket.OPEN)
    ws.close()
  })

  it('closes a connection sending a message over MAX_MESSAGE_BYTES with 1009 and stays up', async () => {
    const server = await startServer({ maxMessageBytes: 4096 })
    const bystander = await connectSynced(server.url, 'limits')
    const { ws, closed } = await openSocket(`${server.url}/limits`)
    ws.send(new Uint8Array(10_000))
    expect(await closed).toBe(1009)
    bystander.text.insert(0, 'still fine')
    const late = await connectSynced(server.url, 'limits')
    await waitFor(() => late.text.toString() === 'still fine')
  })

  it('refuses an update past MAX_DOC_BYTES with close 4413 and keeps the doc', async () => {
    const server = await startServer({ maxDocBytes: 4096 })
    const editor = await connectSynced(server.url, 'capped')
    editor.text.insert(0, 'small')
    const watcher = await connectSynced(server.url, 'capped')
    await waitFor(() => watcher.text.toString() === 'small')
    const big = new Y.Doc()
    big.getText('t').insert(0, 'x'.repeat(8000))
    const { ws, closed } = await openSocket(`${server.url}/capped`)
    ws.send(encodeUpdate(Y.encodeStateAsUpdate(big)))
    expect(await closed).toBe(4413)
    editor.text.insert(5, '+')
    await waitFor(() => watcher.text.toString() === 'small+')
    expect(watcher.text.toString()).not.toContain('x')
  })

  it('answers bad doc names with HTTP 400 before any upgrade', async () => {
    const server = await startServer()
    for (const path of ['/', '/%00evil', `/${'x'.repeat(600)}`, '/%E0%A4%A']) {
      expect((await rawUpgrade(server.port, path)).status, path).toBe(400)
    }
  })
})
