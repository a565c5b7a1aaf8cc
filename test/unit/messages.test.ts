import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  decodeClientMessage,
  encodeAwareness,
  encodeQueryAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from '../../src/protocol/messages.js'

function sampleUpdate(): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'hello')
  return Y.encodeStateAsUpdate(doc)
}

describe('decodeClientMessage', () => {
  it('decodes every message kind a stock client sends', () => {
    const update = sampleUpdate()
    const sv = Y.encodeStateVectorFromUpdate(update)
    expect(decodeClientMessage(encodeSyncStep1(sv))).toMatchObject({
      ok: true,
      message: { kind: 'sync-step1' },
    })
    expect(decodeClientMessage(encodeSyncStep2(update))).toMatchObject({
      ok: true,
      message: { kind: 'sync-step2' },
    })
    expect(decodeClientMessage(encodeUpdate(update))).toMatchObject({ ok: true, message: { kind: 'update' } })
    expect(decodeClientMessage(encodeQueryAwareness())).toMatchObject({
      ok: true,
      message: { kind: 'query-awareness' },
    })
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalState({ user: { name: 'Ada' } })
    const decoded = decodeClientMessage(
      encodeAwareness(encodeAwarenessUpdate(awareness, [awareness.clientID])),
    )
    expect(decoded).toMatchObject({
      ok: true,
      message: {
        kind: 'awareness',
        entries: [{ clientId: awareness.clientID, state: { user: { name: 'Ada' } } }],
      },
    })
    awareness.destroy()
  })

  it('ignores unknown message types and the auth type', () => {
    expect(decodeClientMessage(Uint8Array.of(2, 0, 0))).toEqual({
      ok: true,
      message: { kind: 'ignored', type: 2 },
    })
    expect(decodeClientMessage(Uint8Array.of(42, 1, 2, 3))).toEqual({
      ok: true,
      message: { kind: 'ignored', type: 42 },
    })
  })

  it('rejects empty, truncated, trailing and invalid payloads', () => {
    const update = sampleUpdate()
    const whole = encodeUpdate(update)
    expect(decodeClientMessage(new Uint8Array())).toMatchObject({ ok: false, reason: 'empty' })
    expect(decodeClientMessage(whole.slice(0, whole.length - 3))).toMatchObject({ ok: false })
    expect(decodeClientMessage(Uint8Array.of(...whole, 7))).toMatchObject({
      ok: false,
      reason: 'trailing-bytes',
    })
    expect(decodeClientMessage(Uint8Array.of(0, 9, 0))).toMatchObject({ ok: false, reason: 'bad-sync-type' })
    // A varint that never ends.
    expect(decodeClientMessage(Uint8Array.of(0xff, 0xff, 0xff))).toMatchObject({ ok: false })
    const garbageUpdate = encoding.createEncoder()
    encoding.writeVarUint(garbageUpdate, 0)
    encoding.writeVarUint(garbageUpdate, 2)
    encoding.writeVarUint8Array(garbageUpdate, Uint8Array.of(5, 200, 1, 3, 3, 3))
    expect(decodeClientMessage(encoding.toUint8Array(garbageUpdate))).toMatchObject({
      ok: false,
      reason: 'bad-update',
    })
  })

  it('rejects awareness updates whose JSON does not parse', () => {
    const body = encoding.createEncoder()
    encoding.writeVarUint(body, 1)
    encoding.writeVarUint(body, 123)
    encoding.writeVarUint(body, 1)
    encoding.writeVarString(body, '{not json')
    expect(decodeClientMessage(encodeAwareness(encoding.toUint8Array(body)))).toMatchObject({
      ok: false,
      reason: 'bad-awareness',
    })
  })

  it('never throws on random bytes (property, seeded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = decodeClientMessage(bytes)
        expect(typeof result.ok).toBe('boolean')
      }),
      { numRuns: 5000, seed: 20261125 },
    )
  })

  it('never throws on valid frames with random payloads (property, seeded)', () => {
    const frame = fc
      .tuple(fc.constantFrom(0, 1, 3), fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 256 }))
      .map(([type, sub, payload]) => {
        const encoder = encoding.createEncoder()
        encoding.writeVarUint(encoder, type)
        if (type === 0) encoding.writeVarUint(encoder, sub)
        encoding.writeVarUint8Array(encoder, payload)
        return encoding.toUint8Array(encoder)
      })
    fc.assert(
      fc.property(frame, (bytes) => {
        const result = decodeClientMessage(bytes)
        // Anything accepted as an update must really apply to a fresh doc.
        if (result.ok && (result.message.kind === 'update' || result.message.kind === 'sync-step2')) {
          Y.applyUpdate(new Y.Doc(), result.message.update)
        }
      }),
      { numRuns: 3000, seed: 7 },
    )
  })
})
