/**
 * The big-doc worker thread dies while it holds a doc (room/big-doc-session.ts): the next
 * update starts a new thread, the session opens its doc there again from what the main
 * thread kept (base + accepted), and nothing accepted before is lost — not for a client that
 * joins afterwards, not in the store. The thread is ended with Worker.terminate(), as a crash
 * of that thread would end it (its 'exit' is all the host sees).
 */
import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BigDocSession } from '../../src/room/big-doc-session.js'
import type { BigDocHost } from '../../src/workers/big-doc-host.js'
import { connectSynced } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const BIG_CHARS = 2_000_000

/** The host behind a session and its current thread (private: no public handle exists). */
function hostOf(session: BigDocSession): { host: BigDocHost; worker: () => Worker | undefined } {
  const host = (session as unknown as { host: BigDocHost }).host
  return { host, worker: () => (host as unknown as { worker: Worker | undefined }).worker }
}

describe('the big-doc worker thread dies', { timeout: 120_000 }, () => {
  it('opens the doc again in a new thread from what the main thread kept; nothing is lost', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, 'dying')
    ada.text.insert(0, 'x'.repeat(BIG_CHARS))
    const room = server.app.registry.get('dying')!
    await waitFor(() => room.content.remote !== undefined, {
      timeoutMs: 30_000,
      what: 'the doc in the worker',
    })
    for (let i = 0; i < 20; i++) ada.text.insert((i * 7919) % ada.text.length, `<a${i}>`)
    await waitFor(() => Buffer.compare(room.stateVector(), Y.encodeStateVector(ada.doc)) === 0, {
      what: 'the worker to hold every edit',
    })

    const { host, worker } = hostOf(room.content.remote!)
    const generation = host.generation
    await worker()!.terminate()
    await waitFor(() => !host.running, { what: 'the host to see its thread gone' })

    // Applied in a new thread, into the doc opened again from base + accepted.
    for (let i = 0; i < 20; i++) ada.text.insert((i * 104_729) % ada.text.length, `<b${i}>`)
    await waitFor(() => Buffer.compare(room.stateVector(), Y.encodeStateVector(ada.doc)) === 0, {
      what: 'the new thread to hold every edit',
    })
    expect(host.generation).toBeGreaterThan(generation)
    expect(room.content.remote).toBeDefined()
    const expected = ada.text.toString()
    // Cut from the new thread's doc: everything before the death and after it.
    const bob = await connectSynced(server.url, 'dying')
    await waitFor(() => bob.text.toString() === expected, { timeoutMs: 30_000, what: 'bob to hold the doc' })
    ada.destroy()
    bob.destroy()
    await server.close()

    const again = await startServer({ dataDir: server.config.dataDir })
    const reader = await connectSynced(again.url, 'dying')
    expect(reader.text.toString()).toBe(expected)
    reader.destroy()
    await again.close()
  })
})
