import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docJsonView, inferRootKind, typedRoots } from '../../src/document/shared-types.js'

/** Builds a doc with the editor's typed API, then hands back what a server sees: a decoded update. */
function decoded(build: (doc: Y.Doc) => void): { doc: Y.Doc; update: Uint8Array } {
  const source = new Y.Doc()
  build(source)
  const update = Y.encodeStateAsUpdate(source)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return { doc, update }
}

describe('inferRootKind', () => {
  it('sees a plain Y.Text as text', () => {
    const { doc } = decoded((d) => d.getText('t').insert(0, 'hello'))
    expect(inferRootKind(doc, 't')).toBe('text')
  })

  it('sees a Y.Text with only format marks and embeds as text', () => {
    const { doc } = decoded((d) => d.getText('t').insertEmbed(0, { image: 'x.png' }))
    expect(inferRootKind(doc, 't')).toBe('text')
  })

  it('sees a Y.Map as map', () => {
    const { doc } = decoded((d) => d.getMap('m').set('k', 1))
    expect(inferRootKind(doc, 'm')).toBe('map')
  })

  it('sees a Y.Array of JSON values and of nested maps as array', () => {
    const { doc } = decoded((d) => {
      d.getArray('a').push([1, 'two', { three: 3 }])
      const nested = new Y.Map()
      nested.set('x', 1)
      d.getArray('b').push([nested])
    })
    expect(inferRootKind(doc, 'a')).toBe('array')
    expect(inferRootKind(doc, 'b')).toBe('array')
  })

  it('sees a ProseMirror-shaped Y.XmlFragment as xml', () => {
    const { doc } = decoded((d) => d.getXmlFragment('prosemirror').insert(0, [new Y.XmlElement('paragraph')]))
    expect(inferRootKind(doc, 'prosemirror')).toBe('xml')
  })

  it('says empty for a type whose content was all deleted, and for an unknown name', () => {
    const { doc } = decoded((d) => {
      d.getText('t').insert(0, 'gone')
      d.getText('t').delete(0, 4)
    })
    expect(inferRootKind(doc, 't')).toBe('empty')
    expect(inferRootKind(doc, 'nope')).toBe('empty')
  })

  it('lists every root of a mixed doc', () => {
    const { doc } = decoded((d) => {
      d.getText('t').insert(0, 'x')
      d.getMap('m').set('k', true)
      d.getArray('a').push([0])
      d.getXmlFragment('x').insert(0, [new Y.XmlText('hi')])
    })
    expect(Object.fromEntries(typedRoots(doc))).toEqual({ t: 'text', m: 'map', a: 'array', x: 'xml' })
  })
})

describe('docJsonView', () => {
  it('renders text, map, array and nested values', () => {
    const { update } = decoded((d) => {
      d.getText('t').insert(0, 'hello')
      const inner = new Y.Map()
      d.getMap('m').set('inner', inner)
      inner.set('n', 2)
      d.getMap('m').set('flag', true)
      d.getArray('a').push([1, 'two', { three: 3 }])
    })
    expect(docJsonView('doc-1', update)).toEqual({
      name: 'doc-1',
      content: { t: 'hello', m: { inner: { n: 2 }, flag: true }, a: [1, 'two', { three: 3 }] },
    })
  })

  it('renders a formatted Y.Text as its plain string', () => {
    const { update } = decoded((d) => {
      const text = d.getText('quill')
      text.insert(0, 'bold plain')
      text.format(0, 4, { bold: true })
    })
    expect(docJsonView('q', update).content).toEqual({ quill: 'bold plain' })
  })

  it('renders a ProseMirror-shaped fragment as XML', () => {
    const { update } = decoded((d) => {
      const heading = new Y.XmlElement('heading')
      heading.setAttribute('level', '1')
      const title = new Y.XmlText()
      heading.insert(0, [title])
      title.insert(0, 'Title')
      const paragraph = new Y.XmlElement('paragraph')
      const body = new Y.XmlText()
      paragraph.insert(0, [body])
      body.insert(0, 'some bold text')
      body.format(5, 4, { strong: {} })
      d.getXmlFragment('prosemirror').insert(0, [heading, paragraph])
    })
    expect(docJsonView('pm', update).content).toEqual({
      prosemirror: '<heading level="1">Title</heading><paragraph>some <strong>bold</strong> text</paragraph>',
    })
  })

  it('renders an emptied type as null, since its kind is gone', () => {
    const { update } = decoded((d) => {
      d.getText('t').insert(0, 'gone')
      d.getText('t').delete(0, 4)
    })
    expect(docJsonView('e', update).content).toEqual({ t: null })
  })

  it('renders an empty doc as no content', () => {
    expect(docJsonView('e', Y.encodeStateAsUpdate(new Y.Doc()))).toEqual({ name: 'e', content: {} })
  })

  it('throws on bytes that are not an update', () => {
    expect(() => docJsonView('bad', new Uint8Array([255, 255, 255, 255]))).toThrow()
  })
})
