/**
 * A first sync from a doc held encoded (room/first-sync.ts, room/doc-holder.ts). A client
 * that holds nothing (state vector [0]) gets the encoded doc as it is: no Y.diffUpdate, whose
 * decode and re-encode of every struct cost about as much as applying the doc (issue 16: the
 * first syncs of 3,000 clients rejoining 1,000 encoded docs after a restart).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocHolder, holdsNothing } from '../../src/room/doc-holder.js'
import { firstSyncFromEncoded, sendFirstSync } from '../../src/room/first-sync.js'
import type { RoomConnection } from '../../src/room/room-connection.js'

/** A typed doc with deletions, as two editors leave it after `edits` edits. */
function typedDoc(edits = 200): Y.Doc {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  for (let i = 0; i < edits; i++) {
    doc.clientID = 1 + (i % 2)
    text.insert(Math.floor(text.length / 2), String.fromCharCode(97 + (i % 26)))
    if (i % 7 === 0) text.delete(0, 1)
  }
  return doc
}

const textOf = (update: Uint8Array): string => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

describe('first sync from an encoded doc', () => {
  const source = typedDoc()
  const update = Y.encodeStateAsUpdate(source)
  const encoded = { update, stateVector: Y.encodeStateVector(source) }
  const nothing = Y.encodeStateVector(new Y.Doc())

  it('tells an empty state vector from one that names a client', () => {
    expect(holdsNothing(nothing)).toBe(true)
    expect(holdsNothing(encoded.stateVector)).toBe(false)
  })

  it('answers a client that holds nothing with the encoded doc itself', () => {
    const [piece, ...rest] = firstSyncFromEncoded(encoded, nothing) ?? []
    expect(rest).toEqual([])
    expect(piece).toBe(update)
    expect(textOf(piece!)).toBe(source.getText('t').toString())
  })

  it('still diffs for a client that holds part of the doc', () => {
    const behind = typedDoc(100)
    const [piece] = firstSyncFromEncoded(encoded, Y.encodeStateVector(behind)) ?? []
    expect(piece!.byteLength).toBeLessThan(update.byteLength)
    Y.applyUpdate(behind, piece!)
    expect(behind.getText('t').toString()).toBe(source.getText('t').toString())
  })

  it('encodes the whole doc from a holder without a re-encode for an empty state vector', () => {
    const holder = new DocHolder(update, () => {})
    expect(holder.encodeStateAsUpdate(nothing)).toBe(update)
    expect(holder.live).toBe(false)
  })
})

describe('sending first-sync pieces', () => {
  it('lets a piece go once it is framed, before the last one is sent', async () => {
    // A full GC on demand, as `node --expose-gc` would give it.
    setFlagsFromString('--expose-gc')
    const collect = runInNewContext('gc') as () => void
    let taken: Iterator<Uint8Array> | undefined
    const connection = {
      id: 1,
      sendPaced(messages: Iterable<Uint8Array>) {
        taken = messages[Symbol.iterator]()
      },
    } as unknown as RoomConnection
    let pieces: Uint8Array[] | undefined = [
      new Uint8Array(1 << 20),
      new Uint8Array(1 << 20),
      new Uint8Array(8),
    ]
    const first = new WeakRef(pieces[0]!)
    sendFirstSync(connection, pieces)
    pieces = undefined
    expect(taken!.next().done).toBe(false)
    expect(taken!.next().done).toBe(false)
    // WeakRef targets stay alive until the end of the current job.
    await new Promise((resolve) => setImmediate(resolve))
    collect()
    // A generator kept its argument (every piece) alive until the last piece was taken.
    expect(first.deref()).toBeUndefined()
    const last = taken!.next()
    expect(last.done).toBe(false)
    expect(taken!.next().done).toBe(true)
  })
})
