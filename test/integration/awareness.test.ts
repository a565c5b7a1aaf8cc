import { describe, expect, it } from 'vitest'
import { connectSynced } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('awareness', () => {
  it('relays add, update and removal of a collaborator state', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'cursors')
    const bob = await connectSynced(server.url, 'cursors')
    const adaId = ada.doc.clientID

    ada.provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#f00' })
    await waitFor(
      () =>
        (bob.provider.awareness.getStates().get(adaId) as { user?: { name: string } })?.user?.name === 'Ada',
    )

    ada.provider.awareness.setLocalStateField('cursor', { anchor: 3, head: 5 })
    await waitFor(
      () => (bob.provider.awareness.getStates().get(adaId) as { cursor?: unknown })?.cursor !== undefined,
    )

    // Leaving removes every state the connection controlled, for everyone.
    ada.destroy()
    await waitFor(() => !bob.provider.awareness.getStates().has(adaId), { what: 'Ada to disappear' })
    expect(server.app.registry.get('cursors')?.awareness.getStates().has(adaId)).toBe(false)
  })

  it('sends existing states to a newcomer and echoes a client its own state', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'echo')
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(() => server.app.registry.get('echo')?.awareness.getStates().has(ada.doc.clientID) === true)
    let echoed = 0
    ada.provider.ws?.addEventListener('message', (event: MessageEvent) => {
      if (new Uint8Array(event.data as ArrayBuffer)[0] === 1) echoed += 1
    })
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada L.' })
    await waitFor(() => echoed > 0, { what: 'awareness echo' })

    const carol = await connectSynced(server.url, 'echo')
    await waitFor(() => carol.provider.awareness.getStates().has(ada.doc.clientID))
  })
})

describe('awareness ownership', () => {
  it('ignores a connection that tries to speak for another client id', async () => {
    const { WebSocket } = await import('ws')
    const { encodeAwareness } = await import('../../src/protocol/messages.js')
    const encoding = await import('lib0/encoding')
    const server = await startServer()
    const ada = await connectSynced(server.url, 'spoof')
    const bob = await connectSynced(server.url, 'spoof')
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitFor(() => bob.provider.awareness.getStates().has(ada.doc.clientID))

    // A raw client sends a removal (state null) for Ada's id with a newer clock.
    const body = encoding.createEncoder()
    encoding.writeVarUint(body, 1)
    encoding.writeVarUint(body, ada.doc.clientID)
    encoding.writeVarUint(body, 1_000_000)
    encoding.writeVarString(body, 'null')
    const mallory = new WebSocket(`${server.url}/spoof`)
    await new Promise((resolve) => mallory.once('open', resolve))
    mallory.send(encodeAwareness(encoding.toUint8Array(body)))
    await waitFor(async () =>
      (await server.app.metrics.registry.getSingleMetricAsString('yws_rejected_inputs_total')).includes(
        'reason="awareness-spoof"',
      ),
    )
    expect(bob.provider.awareness.getStates().has(ada.doc.clientID)).toBe(true)
    expect(server.app.registry.get('spoof')?.awareness.getStates().has(ada.doc.clientID)).toBe(true)
    mallory.close()
  })
})
