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

describe('BigDocHost openLent', () => {
  let host: BigDocHost | undefined
  afterEach(async () => {
    await host?.shutdown()
    host = undefined
  })

  it('hands the buffer over (detached here) and answers with an equal copy; the doc keeps its binary content', async () => {
    host = new BigDocHost(IDLE_MS)
    const source = new Y.Doc()
    source.getText('t').insert(0, 'lent')
    source.getMap('m').set('bytes', new Uint8Array([1, 2, 3, 4]))
    const update = Y.encodeStateAsUpdate(source)
    const expected = update.slice()
    const reply = await host.openLent('lent', update)
    expect(update.byteLength).toBe(0)
    expect(reply.updates).toHaveLength(1)
    expect(reply.updates[0]).toEqual(expected)
    expect(reply.stateVector).toEqual(Y.encodeStateVector(source))
    // The worker's doc still reads the binary content it took from the handed-over buffer.
    const snapshot = await host.snapshot('lent')
    const copy = new Y.Doc()
    Y.applyUpdate(copy, snapshot.update)
    expect(copy.getMap('m').get('bytes')).toEqual(new Uint8Array([1, 2, 3, 4]))
    expect(copy.getText('t').toString()).toBe('lent')
  }, 60_000)

  it('copies a view into a larger buffer instead of detaching it', async () => {
    host = new BigDocHost(IDLE_MS)
    const update = textUpdate('view')
    const larger = new Uint8Array(update.byteLength + 8)
    larger.set(update, 4)
    const view = larger.subarray(4, 4 + update.byteLength)
    const reply = await host.openLent('view', view)
    expect(view).toEqual(update)
    expect(reply.updates[0]).toEqual(update)
  }, 60_000)
})
