/**
 * A client's big message into a doc held by the big-doc worker is validated there and its
 * update lent to the worker (handed over and back, not cloned on the event loop: issue 16's
 * 50 MB push). The contract stays: a valid update reaches the other clients and the store
 * byte for byte, an invalid one closes its sender with 1002 and goes nowhere.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { OFF_THREAD_VALIDATION_BYTES } from '../../src/transport/connection.js'
import type { BigDocHost } from '../../src/workers/big-doc-host.js'
import { connectSynced } from '../helpers/clients.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const BIG_CHARS = 2_000_000
const UPDATE_CHARS = OFF_THREAD_VALIDATION_BYTES + 50_000

describe('a big client message into a doc in the big-doc worker', { timeout: 120_000 }, () => {
  it('is validated on the worker; a valid update is fanned out and stored, an invalid one closes its sender', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'lend')
    ada.text.insert(0, 'x'.repeat(BIG_CHARS))
    await waitFor(() => server.app.registry.get('lend')?.content.remote !== undefined, {
      timeoutMs: 30_000,
      what: 'the doc to move to the worker',
    })
    const room = server.app.registry.get('lend')!
    await waitFor(() => Buffer.compare(room.stateVector(), Y.encodeStateVector(ada.doc)) === 0)
    const bob = await connectSynced(server.url, 'lend')
    // The room's host (private: observed, not replaced).
    const host = (room as unknown as { bigDocs: BigDocHost }).bigDocs
    const validate = vi.spyOn(host, 'validate')
    const apply = vi.spyOn(host, 'apply')

    // A raw client's big update, as one sync update message (a buffer of its own on arrival).
    const other = new Y.Doc()
    other.getText('other').insert(0, 'o'.repeat(UPDATE_CHARS))
    const update = Y.encodeStateAsUpdate(other)
    expect(update.byteLength).toBeGreaterThanOrEqual(OFF_THREAD_VALIDATION_BYTES)
    const raw = await openSocket(`${server.url}/lend`)
    raw.ws.send(encodeUpdate(update))
    await waitFor(() => bob.doc.getText('other').length === UPDATE_CHARS, {
      timeoutMs: 30_000,
      what: 'the big update to reach another client',
    })
    expect(ada.doc.getText('other').toString()).toBe(other.getText('other').toString())
    expect(validate).toHaveBeenCalledTimes(1)
    // Lent: the worker handed the bytes back (the fan-out and the store used those).
    const applied = await apply.mock.results.at(-1)!.value
    expect(applied.returned).toEqual(update)

    // A big message whose update does not decode: refused on the worker, stored nowhere.
    const garbage = new Uint8Array(OFF_THREAD_VALIDATION_BYTES + 10).fill(0xff)
    const bad = await openSocket(`${server.url}/lend`)
    bad.ws.send(encodeUpdate(garbage))
    expect(await bad.closed).toBe(1002)
    expect(validate).toHaveBeenCalledTimes(2)

    ada.text.insert(0, 'still here ')
    await waitFor(() => bob.text.toString() === ada.text.toString(), { timeoutMs: 30_000 })
    const expected = ada.doc
    await server.app.store.flush()
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await server.app.store.load('lend')).update)
    expect(stored.getText('t').toString()).toBe(expected.getText('t').toString())
    expect(stored.getText('other').toString()).toBe(other.getText('other').toString())
    raw.ws.close()
    ada.destroy()
    bob.destroy()
    await server.close()
  })
})
