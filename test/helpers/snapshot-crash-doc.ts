/** The doc test/integration/snapshot-crash.test.ts compacts: ~3.2 MB of text in 8 updates. */
import * as Y from 'yjs'

export function bigDocUpdates(): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = 7
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let part = 0; part < 8; part++) {
    let text = ''
    for (let i = 0; text.length < 400_000; i++) text += `${part}:${i.toString(36)} `
    doc.getText('t').insert(doc.getText('t').length, text)
  }
  return updates
}

export function textOf(update: Uint8Array): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}
