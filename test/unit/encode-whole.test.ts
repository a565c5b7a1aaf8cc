import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeWhole } from '../../src/workers/encode-whole.js'

function docWithText(chars: number): Y.Doc {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  for (let i = 0; i < chars; i += 1000) text.insert(Math.floor(text.length / 2), 'x'.repeat(1000))
  text.delete(10, 500)
  return doc
}

describe('encodeWhole', () => {
  it('gives the bytes of Y.encodeStateAsUpdate whatever the size hint', () => {
    const doc = docWithText(200_000)
    const expected = Y.encodeStateAsUpdate(doc)
    for (const hint of [
      0,
      100,
      expected.byteLength - 1,
      expected.byteLength,
      expected.byteLength + 7,
      expected.byteLength * 3,
    ])
      expect(encodeWhole(doc, hint), `hint ${hint}`).toEqual(expected)
  })

  it('is a view of its own buffer from offset 0 when the hint fits, else an exact copy', () => {
    const doc = docWithText(50_000)
    const size = Y.encodeStateAsUpdate(doc).byteLength
    const fitting = encodeWhole(doc, size + 100)
    expect(fitting.byteOffset).toBe(0)
    expect(fitting.buffer.byteLength).toBe(size + 100)
    // More than twice too big: copied out, so a held snapshot does not keep the slack.
    const loose = encodeWhole(doc, size * 3)
    expect(loose.buffer.byteLength).toBe(size)
  })

  it('includes pending structs as Yjs does (merged into one update)', () => {
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'first')
    source.getText('t').insert(5, ' second')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, updates[1]!) // its dependency has not arrived: held pending
    expect(doc.store.pendingStructs).not.toBeNull()
    const expected = Y.encodeStateAsUpdate(doc)
    expect(encodeWhole(doc, 10_000)).toEqual(expected)
  })
})
