/**
 * A room's document content, held either as a live Y.Doc or encoded (one Yjs update and its
 * state vector), so that an open doc nobody edits does not keep its Y.Doc.
 *
 *   (open) --load--> encoded --anything needs the Y.Doc--> live
 *   live --quiet for two sweeps, not pinned, nothing pending--> encoded
 *
 * Why: a Y.Doc costs ~13× its encoded size in heap (1,056 KB for an 83 KB doc, 1,000 docs,
 * scripts/measure-room.ts); the encoded form costs its size. Reading a doc (state vector,
 * encoding for a peer, the first sync of a client) works on the encoded form; applying an
 * update, a direct connection or a hook that takes the doc builds the Y.Doc again (one
 * Y.applyUpdate of the state, what loading costs).
 */
import * as Y from 'yjs'
import { newServerDoc } from '../storage/server-doc.js'

/** The doc while no Y.Doc is held. */
export interface EncodedDoc {
  /** The whole document as one update (pending structs included, as Yjs encodes them). */
  readonly update: Uint8Array
  readonly stateVector: Uint8Array
}

/** Merges a big update into an encoded doc off the event loop (the worker pool). */
export interface EncodedDocMerger {
  mergeEncoded(state: Uint8Array, update: Uint8Array): Promise<EncodedDoc>
}

/**
 * `state` with `update` applied, encoded again (pending structs included). Pure: runs on a
 * worker thread; throws what Y.applyUpdate throws.
 */
export function mergeEncoded(state: Uint8Array, update: Uint8Array): EncodedDoc {
  const doc = newServerDoc({ gc: true })
  try {
    Y.applyUpdate(doc, state)
    Y.applyUpdate(doc, update)
    return { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
  } finally {
    doc.destroy()
  }
}

export class DocHolder {
  private liveDoc: Y.Doc | undefined
  private encoded: EncodedDoc | undefined
  /** Holders that keep the Y.Doc live whatever happens (direct connections). */
  private pins = 0
  /** Sweeps since the Y.Doc was last used. */
  private quietSweeps = 0
  private destroyed = false

  /** `onUpdate` is the live Y.Doc's 'update' listener (not called for building it). */
  constructor(
    state: Uint8Array,
    private readonly onUpdate: (update: Uint8Array, origin: unknown) => void,
  ) {
    this.encoded = { update: state, stateVector: Y.encodeStateVectorFromUpdate(state) }
  }

  /** The live Y.Doc, built from the encoded form if needed. */
  get doc(): Y.Doc {
    this.quietSweeps = 0
    if (this.liveDoc) return this.liveDoc
    const doc = newServerDoc({ gc: true })
    Y.applyUpdate(doc, this.encoded?.update ?? new Uint8Array([0, 0]))
    // After destroy (a late reader): a detached copy, as a destroyed Y.Doc would be.
    if (this.destroyed) return doc
    doc.on('update', this.onUpdate)
    this.liveDoc = doc
    this.encoded = undefined
    return doc
  }

  /** Whether a Y.Doc is held now (false: encoded). */
  get live(): boolean {
    return this.encoded === undefined
  }

  /** The encoded form, when no Y.Doc is held (undefined while live). */
  get encodedDoc(): EncodedDoc | undefined {
    return this.encoded
  }

  stateVector(): Uint8Array {
    return this.encoded ? this.encoded.stateVector : Y.encodeStateVector(this.doc)
  }

  /** What a peer at `stateVector` lacks (the whole doc without one). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (!this.encoded) return Y.encodeStateAsUpdate(this.doc, stateVector)
    return stateVector ? Y.diffUpdate(this.encoded.update, stateVector) : this.encoded.update
  }

  /** The doc's exact encoded size. */
  byteLength(): number {
    return this.encoded ? this.encoded.update.byteLength : Y.encodeStateAsUpdate(this.doc).byteLength
  }

  /** Replaces the encoded form (a merge of it done elsewhere); only while no Y.Doc is held. */
  replaceEncoded(encoded: EncodedDoc): void {
    if (!this.encoded) throw new Error('the document is live')
    this.encoded = encoded
  }

  /** Keeps the Y.Doc live until the matching `unpin`. */
  pin(): void {
    this.pins += 1
  }

  unpin(): void {
    this.pins -= 1
  }

  /**
   * Called periodically: drops the Y.Doc when it was not used since the previous sweep, is
   * not pinned, and holds nothing Yjs keeps pending. Returns true when it did.
   */
  sweep(): boolean {
    const doc = this.liveDoc
    if (!doc || this.destroyed || this.pins > 0 || this.quietSweeps++ < 1) return false
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) return false
    this.encoded = { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
    this.liveDoc = undefined
    doc.off('update', this.onUpdate)
    doc.destroy()
    return true
  }

  /** Stops reporting updates; the content stays readable (late readers, final reports). */
  destroy(): void {
    this.destroyed = true
    this.liveDoc?.off('update', this.onUpdate)
    this.liveDoc?.destroy()
  }
}
