import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeStateAsUpdatePieces } from '../../src/room/split-update.js'

/** A doc edited by several clients in turns: interleaved inserts, deletes, maps, arrays, emoji. */
function busyDoc(seed: number): Y.Doc {
  const docs = [1, 2, 3].map((client) => {
    const doc = new Y.Doc()
    doc.clientID = seed * 10 + client
    return doc
  })
  let rand = seed
  const next = (n: number) => {
    rand = (rand * 1103515245 + 12345) % 2 ** 31
    return rand % n
  }
  for (let round = 0; round < 60; round++) {
    const doc = docs[next(docs.length)]!
    const text = doc.getText('t')
    const at = next(text.length + 1)
    text.insert(at, `${'x'.repeat(next(400))}😀${round}é`)
    if (text.length > 50 && next(3) === 0) text.delete(next(text.length - 20), next(20))
    doc.getMap('m').set(`k${next(5)}`, { round, list: [round, 'v'] })
    doc.getArray('a').push(Array.from({ length: next(30) }, (_, i) => ({ i, s: 'y'.repeat(next(50)) })))
    // Everyone exchanges changes, so later edits depend on other clients' items.
    if (round % 4 === 3) {
      for (const from of docs)
        for (const to of docs)
          if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
    }
  }
  const merged = new Y.Doc()
  for (const doc of docs) Y.applyUpdate(merged, Y.encodeStateAsUpdate(doc))
  return merged
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

function applyPieces(target: Y.Doc, pieces: Uint8Array[]): number {
  let pendingSeen = 0
  for (const piece of pieces) {
    Y.applyUpdate(target, piece)
    if (target.store.pendingStructs !== null) pendingSeen++
  }
  return pendingSeen
}

describe('encodeStateAsUpdatePieces', () => {
  it('returns an update that fits as it is', () => {
    const doc = busyDoc(1)
    const update = Y.encodeStateAsUpdate(doc)
    const pieces = encodeStateAsUpdatePieces(doc, undefined, update.byteLength)
    expect(pieces).toHaveLength(1)
    expect(sameBytes(pieces[0]!, update)).toBe(true)
  })

  it.each([1, 2, 3])(
    'pieces are bounded, valid, never pending, and rebuild the same doc (seed %i)',
    (seed) => {
      const source = busyDoc(seed)
      const update = Y.encodeStateAsUpdate(source)
      const max = 2048
      const pieces = encodeStateAsUpdatePieces(source, undefined, max)
      expect(pieces.length).toBeGreaterThan(update.byteLength / max)
      for (const piece of pieces) expect(piece.byteLength).toBeLessThanOrEqual(max)
      const target = new Y.Doc()
      expect(applyPieces(target, pieces)).toBe(0)
      expect(target.store.pendingDs).toBeNull()
      expect(sameBytes(Y.encodeStateVector(target), Y.encodeStateVector(source))).toBe(true)
      expect(target.getText('t').toString()).toBe(source.getText('t').toString())
      expect(target.toJSON()).toEqual(source.toJSON())
      expect(sameBytes(Y.encodeStateAsUpdate(target), update)).toBe(true)
    },
  )

  it('splits only what a receiver lacks, using its state vector for dependencies', () => {
    const newer = busyDoc(4)
    const lagging = new Y.Doc()
    Y.applyUpdate(lagging, Y.encodeStateAsUpdate(newer))
    const sv = Y.encodeStateVector(lagging)
    // The newer copy gets more edits that hang off items the receiver already has.
    const text = newer.getText('t')
    for (let i = 0; i < 20; i++) text.insert(Math.floor(text.length / 2), `${'z'.repeat(300)}${i}`)
    const pieces = encodeStateAsUpdatePieces(newer, sv, 1024)
    expect(pieces.length).toBeGreaterThan(4)
    expect(applyPieces(lagging, pieces)).toBe(0)
    expect(lagging.getText('t').toString()).toBe(text.toString())
    expect(sameBytes(Y.encodeStateAsUpdate(lagging), Y.encodeStateAsUpdate(newer))).toBe(true)
  })

  it('starts inside a stored item when the receiver has its first clocks', () => {
    const source = new Y.Doc()
    source.getText('t').insert(0, 'a'.repeat(3000))
    const receiver = new Y.Doc()
    Y.applyUpdate(receiver, Y.encodeStateAsUpdate(source))
    const sv = Y.encodeStateVector(receiver)
    source.getText('t').insert(3000, 'b'.repeat(9000)) // merged into the same stored item
    expect(source.store.clients.get(source.clientID)).toHaveLength(1)
    const pieces = encodeStateAsUpdatePieces(source, sv, 1024)
    expect(pieces.length).toBeGreaterThan(3)
    expect(applyPieces(receiver, pieces)).toBe(0)
    expect(receiver.getText('t').toString()).toBe(source.getText('t').toString())
  })

  it('never cuts a surrogate pair', () => {
    const source = new Y.Doc()
    source.getText('t').insert(0, '😀'.repeat(20_000))
    const pieces = encodeStateAsUpdatePieces(source, undefined, 4096)
    const target = new Y.Doc()
    applyPieces(target, pieces)
    expect(target.getText('t').toString()).toBe('😀'.repeat(20_000))
  })

  it('a 5 MB single insert becomes pieces of at most 256 KiB', () => {
    const source = new Y.Doc()
    source.getText('t').insert(0, 'é'.repeat(2_500_000))
    const update = Y.encodeStateAsUpdate(source)
    const pieces = encodeStateAsUpdatePieces(source, undefined, 256 * 1024)
    expect(Math.max(...pieces.map((p) => p.byteLength))).toBeLessThanOrEqual(256 * 1024)
    const target = new Y.Doc()
    applyPieces(target, pieces)
    expect(sameBytes(Y.encodeStateAsUpdate(target), update)).toBe(true)
  })
})
