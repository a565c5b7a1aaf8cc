/**
 * A Y.Doc for the server's own use (a room's content, merges, compaction, first-sync cuts):
 * it integrates what clients sent and never authors a change of its own.
 *
 * Why: after every remote transaction that touched formatted text, Yjs runs a formatting
 * cleanup (YText._callObserver sets `transaction._needFormattingCleanup`, then
 * cleanupYTextAfterTransaction deletes the format items it finds redundant, in a new local
 * transaction). Each client runs it too and sends what it deleted. On the server, those
 * deletes reached nobody: a room fans out the bytes it received, not what its doc emitted,
 * and merges and compactions only encode. So the server held deletes no client had, and when
 * a client later sent the same delete, the room saw nothing new and did not fan it out: its
 * other clients never got it (cluster.test "3 instances x 3 simulated editors": "1 of 2 docs
 * diverged, 0 edits lost", equal state vectors, a client missing `<em>`). First syncs and
 * compacted snapshots built from such a doc carried those deletes to some clients only.
 * Clients clean up their own formatting; the server keeps exactly the union of what it got.
 * test/unit/server-doc.test.ts fails if Yjs renames the flag.
 */
import * as Y from 'yjs'

interface CleanupFlag {
  _needFormattingCleanup: boolean
}

const skipFormattingCleanup = (transaction: Y.Transaction): void => {
  ;(transaction as unknown as CleanupFlag)._needFormattingCleanup = false
}

/** A Y.Doc that applies updates like any other but never runs Yjs's formatting cleanup. */
export function newServerDoc(options?: { gc?: boolean }): Y.Doc {
  const doc = new Y.Doc(options)
  // 'afterTransaction' is emitted after the observers and right before the cleanup check.
  doc.on('afterTransaction', skipFormattingCleanup)
  return doc
}
