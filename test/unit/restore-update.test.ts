/**
 * The restore technique (src/history/restore-update.ts) on every kind of shared type: the
 * forward update, applied to the live doc (and to any replica), makes its content equal the
 * version's, as new changes on top of the history.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { EMPTY_UPDATE, NotAnAncestorError, restoreUpdate } from '../../src/history/restore-update.js'
import { prng } from '../helpers/doc-store-fixtures.js'

/** The doc as a server holds it: gc on, loaded from its encoded state, types not declared. */
function serverCopy(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}

/** Content of the named types, read through their real classes. */
function view(doc: Y.Doc): unknown {
  const fresh = new Y.Doc()
  Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc))
  const result = {
    text: fresh.getText('text').toDelta(),
    map: fresh.getMap('map').toJSON(),
    array: fresh.getArray('array').toJSON(),
    xml: fresh.getXmlFragment('prosemirror').toString(),
    other: fresh.getText('other').toString(),
  }
  fresh.destroy()
  return result
}

/** Restores `version` on a server copy of `live`; returns that copy and the update. */
function restoreOn(live: Y.Doc, version: Uint8Array): { restored: Y.Doc; update: Uint8Array } {
  const restored = serverCopy(live)
  const update = restoreUpdate(Y.encodeStateAsUpdate(restored), version)
  Y.applyUpdate(restored, update)
  return { restored, update }
}

function paragraph(text: string, marks?: Record<string, unknown>): Y.XmlElement {
  const element = new Y.XmlElement('paragraph')
  const content = new Y.XmlText()
  content.insert(0, text, marks)
  element.insert(0, [content])
  return element
}

function bulletList(items: string[]): Y.XmlElement {
  const list = new Y.XmlElement('bullet_list')
  list.insert(
    0,
    items.map((item) => {
      const li = new Y.XmlElement('list_item')
      li.insert(0, [paragraph(item)])
      return li
    }),
  )
  return list
}

describe('restoreUpdate', () => {
  it('formatted Y.Text: text, bold and italic come back exactly', () => {
    const live = new Y.Doc()
    const text = live.getText('text')
    text.insert(0, 'Hello brave world')
    text.format(0, 5, { bold: true })
    text.format(6, 5, { italic: true })
    const version = Y.encodeStateAsUpdate(live)
    const expected = view(live)
    text.delete(0, 6)
    text.format(0, 5, { italic: null, bold: true })
    text.insert(text.length, ' and more', { underline: true })
    expect(view(live)).not.toEqual(expected)
    expect(view(restoreOn(live, version).restored)).toEqual(expected)
  })

  it('Y.Map: changed, deleted, added and nested entries', () => {
    const live = new Y.Doc()
    const map = live.getMap('map')
    map.set('title', 'Draft')
    const nested = new Y.Map()
    map.set('meta', nested)
    nested.set('owner', 'ann')
    const version = Y.encodeStateAsUpdate(live)
    const expected = view(live)
    map.set('title', 'Final')
    map.set('title', 'Final 2')
    nested.set('owner', 'bob')
    map.delete('meta')
    map.set('added', 42)
    expect(view(restoreOn(live, version).restored)).toEqual(expected)
  })

  it('Y.Array: removed and appended elements', () => {
    const live = new Y.Doc()
    const array = live.getArray('array')
    array.push([1, 'two', { three: 3 }])
    const version = Y.encodeStateAsUpdate(live)
    const expected = view(live)
    array.delete(0, 2)
    array.insert(0, ['zero'])
    array.push([4])
    expect(view(restoreOn(live, version).restored)).toEqual(expected)
  })

  it('Y.XmlFragment as y-prosemirror uses it: paragraphs with marks, lists, attributes', () => {
    const live = new Y.Doc()
    const fragment = live.getXmlFragment('prosemirror')
    const heading = new Y.XmlElement('heading')
    heading.setAttribute('level', '2' as never)
    heading.insert(0, [new Y.XmlText('Title')])
    fragment.insert(0, [heading, paragraph('bold words', { strong: true }), bulletList(['one', 'two'])])
    const version = Y.encodeStateAsUpdate(live)
    const expected = view(live)
    expect(String((expected as { xml: string }).xml)).toContain('<strong>bold words</strong>')
    heading.setAttribute('level', '1' as never)
    fragment.delete(1, 2)
    fragment.insert(1, [paragraph('replacement')])
    ;(fragment.get(0) as Y.XmlElement).insert(1, [new Y.XmlText(' changed')])
    expect(view(restoreOn(live, version).restored)).toEqual(expected)
  })

  it('a top-level type the version did not have is emptied (types cannot be removed)', () => {
    const live = new Y.Doc()
    live.getText('text').insert(0, 'kept')
    const version = Y.encodeStateAsUpdate(live)
    live.getText('other').insert(0, 'created after the version')
    const { restored } = restoreOn(live, version)
    expect(view(restored)).toEqual(view(docFrom(version)))
    expect((view(restored) as { other: string }).other).toBe('')
  })

  it('works when the live doc was garbage-collected (compacted) since the version', () => {
    const live = new Y.Doc()
    const text = live.getText('text')
    text.insert(0, 'the original paragraph')
    const version = Y.encodeStateAsUpdate(live)
    const expected = view(live)
    text.delete(0, text.length)
    text.insert(0, 'rewritten')
    // Reload from the gc'd encoding: deleted content is gone from the live doc entirely.
    const compacted = serverCopy(live)
    expect(compacted.getText('text').toString()).toBe('rewritten')
    expect(view(restoreOn(compacted, version).restored)).toEqual(expected)
  })

  it('nothing changed since the version: an empty update', () => {
    const live = new Y.Doc()
    live.getText('text').insert(0, 'same')
    const version = Y.encodeStateAsUpdate(live)
    expect(restoreUpdate(Y.encodeStateAsUpdate(live), version)).toEqual(EMPTY_UPDATE)
  })

  it('refuses a version with changes the doc never had, and the doc is untouched', () => {
    const live = new Y.Doc()
    live.getText('text').insert(0, 'mine')
    const stranger = new Y.Doc()
    stranger.getText('text').insert(0, 'someone else')
    expect(() => restoreUpdate(Y.encodeStateAsUpdate(live), Y.encodeStateAsUpdate(stranger))).toThrow(
      NotAnAncestorError,
    )
  })

  it('replicas that apply the update (as editors would) converge on the version', () => {
    const live = new Y.Doc()
    const editorA = new Y.Doc()
    const editorB = new Y.Doc()
    live.getText('text').insert(0, 'version text')
    const version = Y.encodeStateAsUpdate(live)
    live.getText('text').insert(0, 'later ')
    for (const editor of [editorA, editorB]) Y.applyUpdate(editor, Y.encodeStateAsUpdate(live))
    const { update } = restoreOn(live, version)
    for (const editor of [editorA, editorB]) Y.applyUpdate(editor, update)
    expect(editorA.getText('text').toString()).toBe('version text')
    expect(Y.encodeStateAsUpdate(editorA)).toEqual(Y.encodeStateAsUpdate(editorB))
  })

  it('offline edits made before a restore merge after it: typed text stays, restored-away text stays away', () => {
    const server = new Y.Doc()
    const text = server.getText('text')
    text.insert(0, 'alpha beta')
    const version = Y.encodeStateAsUpdate(server)
    text.delete(0, 6)
    text.insert(4, ' gamma')
    expect(text.toString()).toBe('beta gamma')
    // An editor goes offline holding this state and edits there.
    const offline = new Y.Doc()
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(server))
    const typed = offline.getText('text')
    typed.insert(0, 'NOTE ') // typed before "beta"
    typed.delete(9, 6) // deletes " gamma" (which the restore removes too)
    typed.insert(typed.length, '!') // typed at the end
    // Meanwhile the version is restored on the server.
    const { restored } = restoreOn(server, version)
    expect(restored.getText('text').toString()).toBe('alpha beta')
    // The editor comes back: its changes merge like any edit concurrent with the restore.
    // Its typed text stays where it was typed (relative to "beta"); " gamma" does not return.
    Y.applyUpdate(restored, Y.encodeStateAsUpdate(offline))
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(restored))
    expect(restored.getText('text').toString()).toBe('alpha NOTE beta!')
    expect(offline.getText('text').toString()).toBe('alpha NOTE beta!')
  })

  it('property: any version of a randomly edited multi-user doc is restored exactly (seeded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const random = prng(seed)
        const editors = [new Y.Doc(), new Y.Doc()]
        const live = new Y.Doc()
        let version: Uint8Array | undefined
        let expected: unknown
        for (let round = 0; round < 6; round++) {
          for (const editor of editors) randomEdits(editor, 8, random)
          for (const editor of editors) {
            Y.applyUpdate(live, Y.encodeStateAsUpdate(editor))
            Y.applyUpdate(editor, Y.encodeStateAsUpdate(live))
          }
          if (round === 2) {
            version = Y.encodeStateAsUpdate(serverCopy(live))
            expected = view(live)
          }
        }
        const { restored } = restoreOn(serverCopy(live), version!)
        expect(view(restored)).toEqual(expected)
      }),
      { numRuns: 25, seed: 14 },
    )
  })
})

function docFrom(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}

function randomEdits(doc: Y.Doc, count: number, random: () => number): void {
  const text = doc.getText('text')
  const map = doc.getMap('map')
  const array = doc.getArray('array')
  const fragment = doc.getXmlFragment('prosemirror')
  for (let i = 0; i < count; i++) {
    const roll = random()
    const at = (length: number) => Math.floor(random() * (length + 1))
    if (roll < 0.25) text.insert(at(text.length), 'xyz'.slice(0, 1 + Math.floor(random() * 3)))
    else if (roll < 0.35 && text.length > 2) text.delete(at(text.length - 2), 2)
    else if (roll < 0.45 && text.length > 1)
      text.format(at(text.length - 1), 1, { bold: random() < 0.5 ? true : null })
    else if (roll < 0.6) map.set(`k${Math.floor(random() * 4)}`, Math.floor(random() * 100))
    else if (roll < 0.65) map.delete(`k${Math.floor(random() * 4)}`)
    else if (roll < 0.75) array.insert(at(array.length), [Math.floor(random() * 10)])
    else if (roll < 0.8 && array.length > 0) array.delete(at(array.length - 1), 1)
    else if (roll < 0.92)
      fragment.insert(at(fragment.length), [paragraph(`p${i}`, random() < 0.5 ? { em: true } : undefined)])
    else if (fragment.length > 0) fragment.delete(at(fragment.length - 1), 1)
  }
}
