/**
 * Reading a simulated document the way the verdict needs it. The content model is the one
 * y-prosemirror maps a ProseMirror document to (and the one the example editor binds): a
 * root Y.XmlFragment named `prosemirror` holding `paragraph` elements, each with one Y.XmlText
 * whose formatting attributes are the marks (`strong`, `em`).
 */
import * as Y from 'yjs'

/** The root fragment every simulated editor types into. */
export const FRAGMENT_NAME = 'prosemirror'

/** The paragraphs' texts, in document order (elements of other kinds are skipped). */
export function paragraphTexts(fragment: Y.XmlFragment): Y.XmlText[] {
  const texts: Y.XmlText[] = []
  for (const node of fragment.toArray()) {
    if (!(node instanceof Y.XmlElement) || node.nodeName !== 'paragraph') continue
    const text = node.get(0)
    if (text instanceof Y.XmlText) texts.push(text)
  }
  return texts
}

/**
 * The plain characters of a text, without marks. (Y.XmlText's own toString() renders marks
 * as tags, which would split words in two.)
 */
export function plainText(text: Y.XmlText): string {
  let plain = ''
  for (const op of text.toDelta() as { insert?: unknown }[]) {
    if (typeof op.insert === 'string') plain += op.insert
  }
  return plain
}

/** Every space-separated word in the document (simulated tokens are unique words). */
export function wordsOf(doc: Y.Doc): Set<string> {
  const words = new Set<string>()
  for (const text of paragraphTexts(doc.getXmlFragment(FRAGMENT_NAME))) {
    for (const word of plainText(text).split(' ')) if (word) words.add(word)
  }
  return words
}

/** The document as XML with marks: what "the same content" means between two editors. */
export function renderDoc(doc: Y.Doc): string {
  return doc.getXmlFragment(FRAGMENT_NAME).toString()
}
