/**
 * An input on which Yjs's formatting cleanup runs: three editors formatting the same text
 * concurrently, every update they sent in one arrival order (seeded, so every run is the
 * same). A plain Y.Doc applying these deletes format items nobody sent; a server doc
 * (src/storage/server-doc.ts) must not (test/unit/server-doc.test.ts checks both).
 */
import * as Y from 'yjs'

/** Three editors formatting the same text concurrently; every update, in one arrival order. */
export function concurrentFormatting(): Uint8Array[] {
  let seed = 1
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const editors = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText()])
  editors[0]!.getXmlFragment('prosemirror').insert(0, [paragraph])
  const text = (doc: Y.Doc) => (doc.getXmlFragment('prosemirror').get(0) as Y.XmlElement).get(0) as Y.XmlText
  text(editors[0]!).insert(0, 'hello world foo bar baz qux quux corge grault garply')
  const start = Y.encodeStateAsUpdate(editors[0]!)
  for (const editor of editors.slice(1)) Y.applyUpdate(editor, start, 'remote')
  const sent: Uint8Array[] = [start]
  const inboxes: Uint8Array[][] = editors.map(() => [])
  const outbox: Array<[number, Uint8Array]> = []
  editors.forEach((editor, i) => {
    editor.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') outbox.push([i, update])
    })
  })
  for (let step = 0; step < 3000; step++) {
    const i = Math.floor(random() * 3)
    const roll = random()
    if (roll < 0.6) {
      const target = text(editors[i]!)
      const from = Math.floor(random() * target.length)
      const span = 1 + Math.floor(random() * Math.min(10, target.length - from))
      target.format(from, span, { [random() < 0.5 ? 'em' : 'strong']: random() < 0.5 ? {} : null })
    } else if (roll < 0.8 && outbox.length > 0) {
      const [author, update] = outbox.shift()!
      sent.push(update)
      inboxes.forEach((inbox, j) => {
        if (j !== author) inbox.push(update)
      })
    } else if (inboxes[i]!.length > 0) {
      Y.applyUpdate(editors[i]!, inboxes[i]!.shift()!, 'remote')
    }
  }
  return sent
}
