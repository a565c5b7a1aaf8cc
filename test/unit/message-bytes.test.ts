/**
 * protocol/message-bytes.ts: when a received update's buffer is the update message alone, the
 * fan-out sends those bytes instead of encoding a copy; anything else is encoded as before.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ownsBuffer, ownsUpdateBuffer, receivedUpdateMessage } from '../../src/protocol/message-bytes.js'
import { decodeClientMessage, encodeSyncStep2, encodeUpdate } from '../../src/protocol/messages.js'

function update(chars: number): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'x'.repeat(chars))
  return Y.encodeStateAsUpdate(doc)
}

function decodedUpdate(message: Uint8Array): Uint8Array {
  const decoded = decodeClientMessage(message)
  if (!decoded.ok || (decoded.message.kind !== 'update' && decoded.message.kind !== 'sync-step2'))
    throw new Error('not an update')
  return decoded.message.update
}

describe('receivedUpdateMessage', () => {
  it('is the received message itself, byte for byte encodeUpdate, for 1-, 2- and 3-byte lengths', () => {
    for (const chars of [10, 1_000, 300_000]) {
      const sent = encodeUpdate(update(chars))
      const received = decodedUpdate(sent)
      const message = receivedUpdateMessage(received)
      expect(message).toBeDefined()
      expect(message!.buffer).toBe(sent.buffer)
      expect(message).toEqual(encodeUpdate(received))
    }
  })

  it('is undefined for a sync step 2, a longer length form, and a buffer holding more', () => {
    const payload = update(50)
    expect(receivedUpdateMessage(decodedUpdate(encodeSyncStep2(payload)))).toBeUndefined()
    // [0, 2, length as a 2-byte varuint although it fits in one, payload]
    const padded = new Uint8Array([0, 2, (payload.byteLength & 0x7f) | 0x80, 0, ...payload])
    expect(receivedUpdateMessage(decodedUpdate(padded))).toBeUndefined()
    const sent = encodeUpdate(payload)
    const withTail = new Uint8Array(sent.byteLength + 1)
    withTail.set(sent)
    const view = withTail.subarray(3, 3 + payload.byteLength)
    expect(ownsUpdateBuffer(view)).toBe(false)
    expect(receivedUpdateMessage(view)).toBeUndefined()
    // An update that owns its buffer has no message around it.
    expect(receivedUpdateMessage(payload)).toBeUndefined()
  })
})

describe('ownsBuffer', () => {
  it('only for a view of its whole buffer', () => {
    const bytes = new Uint8Array(8)
    expect(ownsBuffer(bytes)).toBe(true)
    expect(ownsBuffer(bytes.subarray(1))).toBe(false)
    expect(ownsBuffer(bytes.subarray(0, 7))).toBe(false)
  })
})
