/**
 * The big-doc host's lent requests (issue 16, the 50 MB push): a client's big update and a
 * big message to validate are handed to the worker thread and back instead of cloned on the
 * event loop. The buffer is detached while the worker has it and comes back holding the same
 * bytes; the worker's doc never keeps views into a buffer it handed back. A real worker thread.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeClientMessage, encodeUpdate } from '../../src/protocol/messages.js'
import { BigDocHost } from '../../src/workers/big-doc-host.js'

/** A received update message's update: a view into a buffer holding that message alone. */
function receivedUpdate(update: Uint8Array): Uint8Array {
  const decoded = decodeClientMessage(encodeUpdate(update))
  if (!decoded.ok || decoded.message.kind !== 'update') throw new Error('not an update message')
  return decoded.message.update
}

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('BigDocHost lent requests', () => {
  let host: BigDocHost | undefined
  afterEach(async () => {
    await host?.shutdown()
    host = undefined
  })

  it('apply: hands the buffer over and back; the doc keeps what it applied when the buffer is reused', async () => {
    host = new BigDocHost(60_000)
    await host.open('doc', [textUpdate('base')])
    const source = new Y.Doc()
    source.getMap('m').set('bytes', new Uint8Array([1, 2, 3, 4]))
    // Inside an object (ContentAny), Yjs decodes bytes as a view into the update it applies.
    source.getMap('m').set('any', { bytes: new Uint8Array([5, 6, 7, 8]) })
    source.getText('t').insert(0, 'lent')
    const expected = Y.encodeStateAsUpdate(source)
    const update = receivedUpdate(expected)
    const message = new Uint8Array(update.buffer)

    const reply = await host.apply('doc', update, true)
    expect(update.byteLength).toBe(0)
    expect(message.byteLength).toBe(0)
    expect(reply.told).toBe(true)
    expect(reply.returned).toEqual(expected)
    // The same message around it: the fan-out can send those bytes as they are.
    expect(new Uint8Array(reply.returned!.buffer)).toEqual(encodeUpdate(expected))

    // Whatever happens to the returned bytes now, the worker's doc applied its own copy (bytes
    // in a JSON value are read as views into the applied update).
    reply.returned!.fill(0)
    const snapshot = await host.snapshot('doc')
    const copy = new Y.Doc()
    Y.applyUpdate(copy, snapshot.update)
    expect(copy.getMap('m').get('bytes')).toEqual(new Uint8Array([1, 2, 3, 4]))
    expect(copy.getMap('m').get('any')).toEqual({ bytes: new Uint8Array([5, 6, 7, 8]) })
    expect(copy.getText('t').toString()).toContain('lent')
  }, 60_000)

  it('apply: copies an update whose buffer holds more than its message (nothing detached, nothing returned)', async () => {
    host = new BigDocHost(60_000)
    await host.open('doc', [textUpdate('base')])
    const update = textUpdate('view')
    const larger = new Uint8Array(update.byteLength + 8)
    larger.set(update, 4)
    const view = larger.subarray(4, 4 + update.byteLength)
    const reply = await host.apply('doc', view, true)
    expect(view).toEqual(update)
    expect(reply.returned).toBeUndefined()
    expect(reply.told).toBe(true)
  }, 60_000)

  it('validate: hands the message over and back with the verdict decodeClientMessage gives', async () => {
    host = new BigDocHost(60_000)
    const good = encodeUpdate(textUpdate('fine'))
    const goodCopy = good.slice()
    const valid = await host.validate(good)
    expect(good.byteLength).toBe(0)
    expect(valid.verdict).toEqual({ ok: true })
    expect(valid.message).toEqual(goodCopy)

    // A format-invalid update (a struct count past the end).
    const bad = encodeUpdate(Uint8Array.from([5, 1, 2, 3]))
    const expected = decodeClientMessage(bad.slice())
    expect(expected.ok).toBe(false)
    const invalid = await host.validate(bad)
    expect(invalid.verdict.ok).toBe(false)
    if (!invalid.verdict.ok && !expected.ok) expect(invalid.verdict.reason).toBe(expected.reason)
    // Validating needs no doc, and does not keep the thread for one.
  }, 60_000)
})
