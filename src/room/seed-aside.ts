/**
 * Runs a seeding hook (`onLoadDocument`) on a scratch copy of a room's doc and applies what it
 * wrote to the room only if it returns: a failed load changes nothing.
 *
 * Why: Yjs transactions do not roll back. A hook that inserted into the room's own doc and then
 * threw left its half seed in the doc, and the room had already stored it, relayed it to the
 * other instances and reported it to `onChange` before the load failed (503); the next load
 * found the doc non-empty and never completed the seed. On the copy, the hook sees exactly
 * what the room holds (storage and the cluster caught up), and its writes reach the room as
 * one update, origin server (stored, relayed, `onChange` kind `server`, as before).
 * The copy is a server doc (server-doc.ts): integrating the room's state must not run Yjs's
 * formatting cleanup, whose deletes no client sent. A hook that writes nothing leaves a room
 * held encoded as it was (the copy is built from the encoded state).
 */
import * as Y from 'yjs'
import { newServerDoc } from '../storage/server-doc.js'
import { SERVER_ORIGIN } from './room-connection.js'

/** What seedAside needs of a room (Room satisfies it). */
export interface SeedTarget {
  /** The doc as one update (Room.encodeStateAsUpdate: free when held encoded). */
  encodeStateAsUpdate(): Uint8Array
  /** The live doc; only read when the hook wrote something. */
  readonly doc: Y.Doc
}

/**
 * Calls `seed` with a copy of the room's doc and, once it resolves, applies every change it
 * made to the copy to the room's doc as one update with origin SERVER_ORIGIN.
 * @param seed the hook; it must not keep `doc` (later changes to the copy reach nobody)
 * @throws whatever `seed` throws; the room is then unchanged
 */
export async function seedAside(
  target: SeedTarget,
  seed: (doc: Y.Doc) => Promise<void> | void,
): Promise<void> {
  const scratch = newServerDoc({ gc: true })
  try {
    Y.applyUpdate(scratch, target.encodeStateAsUpdate())
    const written: Uint8Array[] = []
    scratch.on('update', (update: Uint8Array) => written.push(update))
    await seed(scratch)
    if (written.length === 0) return
    Y.applyUpdate(
      target.doc,
      written.length === 1 ? (written[0] as Uint8Array) : Y.mergeUpdates(written),
      SERVER_ORIGIN,
    )
  } finally {
    scratch.destroy()
  }
}
