/**
 * The big-doc thread exits once it holds no doc and awaits nothing (like the pool's idle
 * threads, issue 16 memory), keeps running while a doc is open, and starts again for the
 * next doc. A real worker thread; the idle timeout is shortened to 200 ms.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { BigDocHost } from '../../src/workers/big-doc-host.js'

const IDLE_MS = 200

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('BigDocHost idle thread', () => {
  let host: BigDocHost | undefined
  afterEach(async () => {
    await host?.shutdown()
    host = undefined
  })

  it('exits once no doc is open, not while one is, and starts again', async () => {
    host = new BigDocHost(IDLE_MS)
    await host.open('kept', [textUpdate('kept')])
    await host.open('closed', [textUpdate('closed')])
    host.close('closed')
    // A round trip after the close, then more than IDLE_MS: 'kept' holds the thread.
    await host.snapshot('kept')
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3))
    expect(host.running).toBe(true)

    host.close('kept')
    await vi.waitFor(() => expect(host?.running).toBe(false), { timeout: 10_000, interval: 20 })
    const vector = await host.open('again', [textUpdate('again')])
    expect(Y.decodeStateVector(vector).size).toBe(1)
    expect(host.running).toBe(true)
    const reply = await host.apply('again', textUpdate('more'))
    expect(reply.told).toBe(true)
  }, 60_000)
})
