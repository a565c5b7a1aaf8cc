/**
 * Builds the LiveStateSource (doc-store.ts) from a lookup of open documents: the composition
 * root passes `(name) => registry.get(name)`, which answers only for rooms that finished
 * loading and have not started unloading. Encoding a ~20 KB doc costs well under a
 * millisecond on the main thread, where re-reading, merging and verifying its log twice
 * cost several (scripts/measure-live-compaction.ts).
 */
import * as Y from 'yjs'
import type { LiveStateSource } from './doc-store.js'

/** Anything holding an open doc: a Room. Its doc must be gc'd (`new Y.Doc({ gc: true })`). */
export interface LiveDocHolder {
  readonly doc: Y.Doc
  /**
   * The holder's own answer, preferred when present: a Room answers with its encoded state
   * when it holds no Y.Doc (reading `doc` would build one), a promise of it when its doc is
   * held in the big-doc worker (encoded there), and undefined for a big live doc.
   */
  compactionState?(): Uint8Array | Promise<Uint8Array | undefined> | undefined
}

export function liveStateOf(lookup: (docName: string) => LiveDocHolder | undefined): LiveStateSource {
  return (docName) => {
    const holder = lookup(docName)
    if (holder?.compactionState) return holder.compactionState()
    return holder?.doc.gc ? Y.encodeStateAsUpdate(holder.doc) : undefined
  }
}
