/**
 * Pure functions that turn a doc's stored updates (snapshot + log) into one update. They
 * run inside the worker pool for anything big, so they must not import anything with I/O.
 */
import * as Y from 'yjs'
import { VerificationError } from '../errors.js'
import { newServerDoc } from './server-doc.js'

export interface CompactedDoc {
  /** The whole document as one update. */
  readonly snapshot: Uint8Array
  readonly stateVector: Uint8Array
}

/** A compacted snapshot that differs from its log (catalogued in errors.ts). */
export { VerificationError }

/**
 * A doc holding all `updates`, applied in one transaction (observers and cleanup run once).
 * Compaction builds the doc anyway, so it loads the raw updates directly instead of
 * merging them first: 10k typing updates take 50-200 ms this way.
 */
function loadDoc(updates: readonly Uint8Array[], gc: boolean): Y.Doc {
  const doc = newServerDoc({ gc })
  Y.transact(doc, () => {
    for (const update of updates) Y.applyUpdate(doc, update)
  })
  return doc
}

/** A doc's stored updates merged into one, with its state vector when the merge had it. */
export interface LoadedState {
  /** The whole document as one update. */
  readonly update: Uint8Array
  /**
   * Its state vector, read off the merged Y.Doc (cheap there); undefined when nothing was
   * merged (a single stored update is returned as it is).
   */
  readonly stateVector?: Uint8Array
}

/**
 * The state a room loads: every stored update applied to one gc'd doc in one transaction,
 * encoded once. Y.mergeUpdates is strongly superlinear in its number of inputs (10k typing
 * updates: ~14 s in one call, ~250 ms as a 64-way tree of calls); this takes ~100 ms (warm,
 * CI box), and the room's doc is gc'd anyway.
 */
export function loadStoredUpdates(updates: readonly Uint8Array[]): Uint8Array {
  return loadStoredState(updates).update
}

/**
 * loadStoredUpdates plus the state vector of the doc it built. Why: a room held encoded needs
 * the state vector, and Y.encodeStateVectorFromUpdate decodes every struct of the update again
 * (about the cost of the merge's encode); reading it off the merged Y.Doc walks one struct
 * per client. Paid once per doc loaded, so 1,000 docs after a restart paid it 1,000 times.
 */
export function loadStoredState(updates: readonly Uint8Array[]): LoadedState {
  if (updates.length === 1) return { update: updates[0]! }
  const doc = loadDoc(updates, true)
  try {
    return { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
  } finally {
    doc.destroy()
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

/**
 * Merges updates into one snapshot; with `gc`, deleted content is garbage-collected by
 * round-tripping through a Y.Doc. Before returning, it proves the snapshot encodes the same
 * document: a fresh doc loaded from the original updates and one loaded from the snapshot
 * must have equal state vectors and byte-identical full encodings (content, delete set and
 * any pending updates with missing dependencies). Throws VerificationError otherwise, so
 * callers never delete a log that the snapshot does not cover.
 */
export function compactUpdates(updates: readonly Uint8Array[], gc: boolean): CompactedDoc {
  const original = loadDoc(updates, gc)
  const snapshot = Y.encodeStateAsUpdate(original)
  const reloaded = loadDoc([snapshot], gc)
  try {
    const stateVector = Y.encodeStateVector(original)
    if (!bytesEqual(stateVector, Y.encodeStateVector(reloaded))) {
      throw new VerificationError('compacted snapshot has a different state vector')
    }
    if (!bytesEqual(Y.encodeStateAsUpdate(original), Y.encodeStateAsUpdate(reloaded))) {
      throw new VerificationError('compacted snapshot encodes different content')
    }
    return { snapshot, stateVector }
  } finally {
    original.destroy()
    reloaded.destroy()
  }
}

export function totalBytes(chunks: readonly Uint8Array[]): number {
  let sum = 0
  for (const chunk of chunks) sum += chunk.byteLength
  return sum
}
