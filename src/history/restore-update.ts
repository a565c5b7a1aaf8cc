/**
 * The forward change that turns a document's content back into a past version's, without
 * rewriting history: a plain Yjs update any replica can apply on top of what it has.
 *
 * Technique (undo of the difference): a scratch doc (gc off, so deleted content keeps its
 * text) is built from the version; the part of the current state the version lacks is then
 * applied to it under a Y.UndoManager scoped to the whole doc, which turns the scratch doc
 * into the current content and records that as one undo step; undoing that step produces,
 * as new items from the scratch doc's own client id, exactly the inverse: everything added
 * since the version is deleted, everything deleted since the version is re-inserted as
 * copies (text with its formatting, map entries, array elements, XML elements with their
 * attributes and children). Because the UndoManager scope is the Doc, every top-level type
 * is covered without knowing its class (Y.Text, Y.Map, Y.Array, Y.XmlFragment alike);
 * a top-level type that did not exist in the version is emptied (top-level types cannot be
 * removed in Yjs).
 *
 * The result only references items the current doc already holds, so it applies cleanly on
 * the live doc and on every replica that has seen the current state; edits made
 * concurrently elsewhere stay (docs/history.md).
 */
import * as Y from 'yjs'
import { NotAnAncestorError } from '../errors.js'
import { newServerDoc } from '../storage/server-doc.js'

/** An update with no structs and no deletions. */
export const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

/** The version is not a past state of this document (catalogued in errors.ts). */
export { NotAnAncestorError }

/**
 * Computes the update that makes `current` (a doc's full state as one update) show the
 * content of `version` (a full state of the same doc taken earlier). Returns EMPTY_UPDATE
 * when the contents already match. Throws NotAnAncestorError when `version` holds changes
 * `current` lacks (e.g. the doc was deleted and re-created since): applying the result would
 * then wait for missing dependencies forever.
 */
export function restoreUpdate(current: Uint8Array, version: Uint8Array): Uint8Array {
  const currentVector = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(current))
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(version))) {
    if ((currentVector.get(client) ?? 0) < clock) {
      throw new NotAnAncestorError('the version holds changes the current document never had')
    }
  }
  // A server doc: no formatting cleanup of its own, so the scratch holds exactly the stored
  // states and the restore diff carries no deletes nobody sent (storage/server-doc.ts).
  const scratch = newServerDoc({ gc: false })
  try {
    Y.applyUpdate(scratch, version)
    const tracked = Symbol('since-version')
    const undo = new Y.UndoManager(scratch, { trackedOrigins: new Set([tracked]), captureTimeout: 0 })
    try {
      Y.applyUpdate(scratch, Y.diffUpdate(current, Y.encodeStateVector(scratch)), tracked)
      const forward: Uint8Array[] = []
      const collect = (update: Uint8Array) => forward.push(update)
      scratch.on('update', collect)
      undo.undo()
      scratch.off('update', collect)
      // One undo is one transaction, hence at most one update; merge defensively anyway.
      if (forward.length === 0) return EMPTY_UPDATE
      return forward.length === 1 ? forward[0]! : Y.mergeUpdates(forward)
    } finally {
      undo.destroy()
    }
  } finally {
    scratch.destroy()
  }
}
