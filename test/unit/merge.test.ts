import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { compactUpdates, loadStoredState, loadStoredUpdates } from '../../src/storage/merge.js'
import { editLikeAUser, prng } from '../helpers/doc-store-fixtures.js'

/** Updates from `clients` editors who sync now and then, as a server would log them. */
function history(seed: number, clients: number, editsEach: number): Uint8Array[] {
  const random = prng(seed)
  const log: Uint8Array[] = []
  const docs = Array.from({ length: clients }, () => new Y.Doc())
  for (const doc of docs)
    doc.on('update', (update: Uint8Array, origin: unknown) => origin !== 'sync' && log.push(update))
  for (let round = 0; round < 4; round++) {
    for (const doc of docs) editLikeAUser(doc, editsEach, random)
    // Partial syncs keep concurrent edits interleaved.
    const from = docs[round % clients]!
    for (const doc of docs) if (doc !== from) Y.applyUpdate(doc, Y.encodeStateAsUpdate(from), 'sync')
  }
  for (const doc of docs) doc.destroy()
  return log
}

function encodedState(updates: readonly Uint8Array[], gc = true): Buffer {
  const doc = new Y.Doc({ gc })
  for (const update of updates) Y.applyUpdate(doc, update)
  const state = Buffer.from(Y.encodeStateAsUpdate(doc))
  doc.destroy()
  return state
}

describe('loadStoredUpdates', () => {
  it("loads the same gc'd document as applying the log one by one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3 }), (seed, clients) => {
        const random = prng(seed + 7)
        const log = history(seed, clients, 6).sort(() => random() - 0.5)
        expect(encodedState([loadStoredUpdates(log)])).toEqual(encodedState(log))
      }),
      { seed: 20261125, numRuns: 30 },
    )
  })

  it('returns a single update as it is', () => {
    const [only] = history(1, 1, 1)
    expect(loadStoredUpdates([only!])).toBe(only)
  })
})

describe('loadStoredState', () => {
  it('gives the state vector that decoding the merged update gives, pending structs included', () => {
    // Issue 10's inputs: client 1's "B" whose "A" was never logged stays pending.
    const pendingB = Buffer.from('01010101840100014200', 'hex')
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3 }), (seed, clients) => {
        const log = history(seed, clients, 6)
        for (const updates of [log, [...log, pendingB]]) {
          const { update, stateVector } = loadStoredState(updates)
          expect(Buffer.from(update)).toEqual(Buffer.from(loadStoredUpdates(updates)))
          expect(stateVector && Y.decodeStateVector(stateVector)).toEqual(
            Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)),
          )
        }
      }),
      { seed: 20261201, numRuns: 20 },
    )
  })

  it('has no state vector for a single update (nothing merged: the caller decodes it)', () => {
    const [only] = history(2, 1, 1)
    expect(loadStoredState([only!])).toEqual({ update: only })
  })
})

describe('compactUpdates', () => {
  it('with gc drops deleted content and still encodes the same document', () => {
    const log = history(7, 2, 200)
    const { snapshot } = compactUpdates(log, true)
    expect(encodedState([snapshot])).toEqual(encodedState(log))
    expect(snapshot.byteLength).toBeLessThan(Y.mergeUpdates(log).byteLength)
  })

  it('without gc keeps deleted content', () => {
    const log = history(8, 2, 200)
    const { snapshot } = compactUpdates(log, false)
    expect(encodedState([snapshot], false)).toEqual(encodedState(log, false))
  })

  it('throws on bytes that are not an update, so no log is ever deleted for them', () => {
    expect(() =>
      compactUpdates([...history(9, 1, 5), Uint8Array.from([0xff, 0xff, 0xff, 0xff])], true),
    ).toThrow()
  })

  it('keeps an update whose dependency is missing (pending structs), so it applies later', () => {
    // Issue 10's inputs: client 1 inserts "B" after its own "A"; only the "B" is logged.
    const pendingB = Buffer.from('01010101840100014200', 'hex')
    const dependencyA = Buffer.from('0101010004010174014100', 'hex')
    for (const snapshot of [
      compactUpdates([pendingB], true).snapshot,
      loadStoredUpdates([pendingB, pendingB]),
    ]) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, snapshot)
      expect(doc.getText('t').toString()).toBe('')
      Y.applyUpdate(doc, dependencyA)
      expect(doc.getText('t').toString()).toBe('AB')
      doc.destroy()
    }
  })
})
