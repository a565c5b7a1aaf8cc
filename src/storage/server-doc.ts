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
import { randomUUID } from 'node:crypto'
import * as Y from 'yjs'

interface CleanupFlag {
  _needFormattingCleanup: boolean
}

const skipFormattingCleanup = (transaction: Y.Transaction): void => {
  ;(transaction as unknown as CleanupFlag)._needFormattingCleanup = false
}

/**
 * A fresh random Y.Doc guid (an RFC 4122 v4 UUID, the format Yjs's own default has).
 *
 * Why not Yjs's default: it is lib0's `uuidv4`, which calls `crypto.getRandomValues` once per
 * hex digit, 31 synchronous calls per Y.Doc: ~160 CPU-µs, against ~250 for applying a 2 KB
 * typed doc's state. After a restart every room is held encoded and the first edit of each
 * builds its Y.Doc, so 1,000 docs edited again at once spent 23 % of the event loop's busy
 * time in it (issue 16, docs/architecture.md "Big and idle documents"). Node's `randomUUID`
 * draws from a cached entropy buffer (~9 CPU-µs per Y.Doc built with it).
 */
export function newDocGuid(): string {
  return randomUUID()
}

/** A Y.Doc that applies updates like any other but never runs Yjs's formatting cleanup. */
export function newServerDoc(options?: { gc?: boolean }): Y.Doc {
  const doc = new Y.Doc({ ...options, guid: newDocGuid() })
  // 'afterTransaction' is emitted after the observers and right before the cleanup check.
  doc.on('afterTransaction', skipFormattingCleanup)
  return doc
}
