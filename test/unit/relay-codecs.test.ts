import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeControl, encodeControl } from '../../src/relay/control-codec.js'
import { someServerRestarted } from '../../src/relay/redis-client.js'
import { controlKey, docKeys, notifyChannel } from '../../src/relay/redis-keys.js'
import type { ControlMessage } from '../../src/relay/relay.js'
import {
  compareIds,
  decodeEntry,
  encodeEntryFields,
  isNewerUpdate,
  isStaleUpdate,
  nextId,
} from '../../src/relay/stream-entry.js'
import { updateAddsTo } from '../../src/relay/update-coverage.js'

describe('docKeys', () => {
  it('puts every key of a doc in one hash tag that braces in the name cannot break', () => {
    const keys = docKeys('yws', 'a}{b')
    const tags = Object.values(keys).map((key) => /\{([^}]*)\}/.exec(key)![1])
    expect(new Set(tags).size).toBe(1)
    expect(tags[0]).toBe(Buffer.from('a}{b').toString('base64url'))
    expect(docKeys('yws', 'a').stream).not.toBe(docKeys('yws', 'b').stream)
  })

  it('gives each stream a doorbell channel with the same hash tag (same Cluster slot)', () => {
    const keys = docKeys('yws', 'a}{b')
    expect(notifyChannel(keys.stream)).toBe(`yws:{${Buffer.from('a}{b').toString('base64url')}}:notify`)
    // An untagged key hashes its whole name; tagging the whole name keeps the slot.
    expect(notifyChannel(controlKey('yws'))).toBe('{yws:control}:notify')
  })
})

describe('someServerRestarted', () => {
  it('is true only when a run id we knew is gone', () => {
    expect(someServerRestarted(undefined, ['a'])).toBe(false)
    expect(someServerRestarted(['a', 'b'], ['a', 'b', 'c'])).toBe(false)
    expect(someServerRestarted(['a', 'b'], ['a', 'c'])).toBe(true)
    expect(someServerRestarted(['a'], ['b'])).toBe(true)
  })
})

describe('stream entries', () => {
  it('round-trips an entry and rejects malformed ones', () => {
    const fields = encodeEntryFields('node-1', 'u', new Uint8Array([1, 2, 3]))
    const decoded = decodeEntry(fields.map((f) => (typeof f === 'string' ? Buffer.from(f) : f)))
    expect(decoded).toEqual({
      ok: true,
      entry: { instanceId: 'node-1', kind: 'u', data: new Uint8Array([1, 2, 3]) },
    })
    // With the writer's nonce; readers of older versions skip the unknown `n` field.
    const withNonce = encodeEntryFields('node-1', 'a', new Uint8Array([4]), 'f00d')
    expect(withNonce.map(String).slice(0, 6)).toEqual(['i', 'node-1', 'n', 'f00d', 'k', 'a'])
    expect(decodeEntry(withNonce.map((f) => (typeof f === 'string' ? Buffer.from(f) : f)))).toEqual({
      ok: true,
      entry: { instanceId: 'node-1', nonce: 'f00d', kind: 'a', data: new Uint8Array([4]) },
    })
    expect(decodeEntry([Buffer.from('garbage'), Buffer.from('only')]).ok).toBe(false)
    expect(decodeEntry([Buffer.from('i'), Buffer.from('x'), Buffer.from('k'), Buffer.from('z')]).ok).toBe(
      false,
    )
    expect(decodeEntry([Buffer.from('i')]).ok).toBe(false)
  })

  it('carries the deletion generation its writer joined under; an older update is stale', () => {
    const buffers = (fields: (string | Buffer)[]) =>
      fields.map((f) => (typeof f === 'string' ? Buffer.from(f) : f))
    const fields = encodeEntryFields('node-1', 'u', new Uint8Array([1]), 'f00d', 2)
    expect(fields.map(String).slice(0, 8)).toEqual(['i', 'node-1', 'n', 'f00d', 'g', '2', 'k', 'u'])
    const decoded = decodeEntry(buffers(fields))
    if (!decoded.ok) throw new Error(decoded.reason)
    expect(decoded.entry.generation).toBe(2)
    expect(isStaleUpdate(decoded.entry, 2)).toBe(false)
    expect(isStaleUpdate(decoded.entry, 3)).toBe(true)
    // Unknown generations (older writers, an unreadable Redis value) filter nothing.
    expect(isStaleUpdate(decoded.entry, undefined)).toBe(false)
    const untagged = decodeEntry(buffers(encodeEntryFields('node-1', 'u', new Uint8Array([1]), 'f00d')))
    if (!untagged.ok) throw new Error(untagged.reason)
    expect(isStaleUpdate(untagged.entry, 3)).toBe(false)
    // Newer: the doc was deleted since a room joined under 1.
    expect(isNewerUpdate(decoded.entry, 1)).toBe(true)
    expect(isNewerUpdate(decoded.entry, 2)).toBe(false)
    expect(isNewerUpdate(untagged.entry, 0)).toBe(false)
    // Awareness is never content.
    const awareness = decodeEntry(buffers(encodeEntryFields('node-1', 'a', new Uint8Array([1]), 'f00d', 1)))
    if (!awareness.ok) throw new Error(awareness.reason)
    expect(isStaleUpdate(awareness.entry, 3)).toBe(false)
    const garbled = buffers(encodeEntryFields('node-1', 'u', new Uint8Array([1]), 'f00d', 2))
    garbled[5] = Buffer.from('2x')
    expect(decodeEntry(garbled)).toEqual({ ok: false, reason: 'bad generation "2x"' })
  })

  it('orders ids numerically, not as strings', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1)
    expect(compareIds('10-2', '10-10')).toBe(-1)
    expect(compareIds('10-1', '10-1')).toBe(0)
    expect(nextId('10-9')).toBe('10-10')
  })
})

describe('updateAddsTo', () => {
  it('sees new structs and deletions that only the diff has, and nothing when covered', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello world')
    const base = Y.encodeStateAsUpdate(doc)
    expect(updateAddsTo(base, Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(base)))).toBe(false)
    doc.getText('t').delete(0, 6) // a deletion adds no struct: the state vector does not move
    const diff = Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(base))
    expect(updateAddsTo(base, diff)).toBe(true)
    const merged = Y.mergeUpdates([base, diff])
    expect(updateAddsTo(merged, Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(merged)))).toBe(
      false,
    )
    doc.getText('t').insert(0, 'new ')
    expect(updateAddsTo(merged, Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(merged)))).toBe(true)
  })
})

describe('control codec', () => {
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

  it('round-trips every message of the grammar', () => {
    const messages: ControlMessage[] = [
      { type: 'revoke', doc: 'd' },
      { type: 'revoke', sub: 'u1' },
      { type: 'evict', doc: 'd' },
      { type: 'delete', doc: 'd', generation: 3 },
    ]
    for (const message of messages) expect(decodeControl(encodeControl(message))).toEqual(message)
  })

  it('ignores unknown fields and refuses anything outside the grammar, never throwing', () => {
    expect(decodeControl(bytes({ type: 'evict', doc: 'd', extra: 1 }))).toEqual({ type: 'evict', doc: 'd' })
    for (const value of [
      null,
      42,
      'evict',
      { type: 'evict' },
      { type: 'revoke' },
      { type: 'revoke', doc: 'd', sub: 'u' },
      { type: 'revoke', doc: 7 },
      { type: 'delete', doc: 'd' },
      { type: 'delete', doc: 'd', generation: 0 },
      { type: 'delete', doc: 'd', generation: 1.5 },
      { type: 'shutdown' },
    ]) {
      expect(decodeControl(bytes(value)), JSON.stringify(value)).toBeUndefined()
    }
    expect(decodeControl(new Uint8Array([0xff, 0x7b]))).toBeUndefined()
  })
})
