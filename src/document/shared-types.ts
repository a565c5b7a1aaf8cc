/**
 * What kind each top-level shared type of a document is, and a JSON view of the document.
 *
 * A Yjs update does not record whether a top-level type was created as `getText`,
 * `getMap`, `getArray` or `getXmlFragment`: the name is stored, the constructor is not. A
 * server that never ran the editor's code therefore decodes every root as an untyped
 * `AbstractType` and has to infer its kind from what its items hold:
 *
 *   - a live item in the sequence holding a string, a format mark or an embed → Y.Text
 *     (`ContentString`, `ContentFormat`, `ContentEmbed` only occur in Y.Text / Y.XmlText);
 *   - a live item in the sequence holding a Y.XmlElement / Y.XmlText / Y.XmlHook → Y.XmlFragment
 *     (ProseMirror, Tiptap, BlockNote);
 *   - any other live item in the sequence (JSON values, binary, nested types, subdocs) → Y.Array;
 *   - no sequence items but keyed entries → Y.Map;
 *   - nothing live at all (emptied, its deleted content dropped) → `empty`, shown as `null` in
 *     the JSON view: neither `""`, `[]` nor `{}` would be honest about a kind we cannot know.
 *
 * Limits, said plainly: an emptied Y.Text / Y.Array / Y.XmlFragment whose items were deleted
 * looks like any other empty type (deleted content is dropped, so its kind is gone); a Y.Array
 * that only holds Y.XmlElements is reported as an XmlFragment (an uncommon shape); a type that
 * both has keyed entries and sequence items (only possible through the low-level API) is judged
 * by its sequence. The inference reads a private-by-convention field of yjs (`_start`, `_map`),
 * stable across yjs 13.x.
 */
import * as Y from 'yjs'

/** The kind of a top-level shared type, as inferred from its content. */
export type RootKind = 'text' | 'map' | 'array' | 'xml' | 'empty'

/** The JSON view of a document: each top-level shared type by name. */
export interface DocJsonView {
  readonly name: string
  /** Y.Text → string, Y.Map → object, Y.Array → array, Y.XmlFragment → XML string, empty → null. */
  readonly content: Record<string, unknown>
}

/** Infers the kind of the top-level type `name` of `doc` from its live items (see header). */
export function inferRootKind(doc: Y.Doc, name: string): RootKind {
  const type = doc.share.get(name)
  if (!type) return 'empty'
  if (type instanceof Y.Text) return 'text'
  if (type instanceof Y.XmlFragment) return 'xml'
  if (type instanceof Y.Array) return 'array'
  if (type instanceof Y.Map) return 'map'
  let sawArrayItem = false
  for (let item = type._start; item !== null; item = item.right) {
    if (item.deleted) continue
    const content = item.content
    if (
      content instanceof Y.ContentString ||
      content instanceof Y.ContentFormat ||
      content instanceof Y.ContentEmbed
    )
      return 'text'
    if (content instanceof Y.ContentType && isXmlNode(content.type)) return 'xml'
    sawArrayItem = true
  }
  if (sawArrayItem) return 'array'
  for (const item of type._map.values()) if (!item.deleted) return 'map'
  return 'empty'
}

function isXmlNode(type: Y.AbstractType<unknown>): boolean {
  return type instanceof Y.XmlElement || type instanceof Y.XmlText || type instanceof Y.XmlHook
}

/**
 * Each top-level type of `doc` with its inferred kind. Typing a root (`doc.getText(name)`)
 * turns the untyped root into that class in place, so call this on a scratch doc you own.
 */
export function typedRoots(doc: Y.Doc): Map<string, RootKind> {
  const kinds = new Map<string, RootKind>()
  for (const name of doc.share.keys()) kinds.set(name, inferRootKind(doc, name))
  return kinds
}

/**
 * The JSON view of a document state (one Yjs update, as `GET /admin/docs/<name>` returns).
 * Decodes into a scratch doc, so the caller's docs are never retyped.
 *
 * @throws Error when `update` is not a valid Yjs update.
 */
export function docJsonView(name: string, update: Uint8Array): DocJsonView {
  const doc = new Y.Doc({ gc: false })
  try {
    Y.applyUpdate(doc, update)
    const content: Record<string, unknown> = {}
    for (const [root, kind] of typedRoots(doc)) content[root] = rootJson(doc, root, kind)
    return { name, content }
  } finally {
    doc.destroy()
  }
}

function rootJson(doc: Y.Doc, name: string, kind: RootKind): unknown {
  switch (kind) {
    case 'text':
      return doc.getText(name).toString()
    case 'xml':
      return doc.getXmlFragment(name).toString()
    case 'array':
      return doc.getArray(name).toJSON()
    case 'map':
      return doc.getMap(name).toJSON()
    case 'empty':
      return null
  }
}
