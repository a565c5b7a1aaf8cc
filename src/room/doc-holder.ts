/**
 * A room's document content, held as a live Y.Doc, encoded (one Yjs update and its state
 * vector), or — for a big document — in the big-doc worker (big-doc-session.ts), so that an
 * open doc nobody edits does not keep its Y.Doc and a big one never costs the event loop its
 * size per edit.
 *
 *   (open) --load--> encoded --anything needs the Y.Doc--> live
 *   live --quiet for two sweeps, not pinned, nothing pending--> encoded
 *   encoded or live --an update the room sends off the loop (room.ts goesOffLoop)--> worker
 *   worker --quiet for two sweeps, everything folded--> encoded
 *   worker --anything needs the Y.Doc (direct connection, API write, hook)--> live (kept live
 *     until the sweep encodes it: a reader that needs the Y.Doc once tends to again)
 *
 * Why: a Y.Doc costs ~13× its encoded size in heap (1,056 KB for an 83 KB doc, 1,000 docs,
 * scripts/measure-room.ts); the encoded form costs its size. Reading a doc (state vector,
 * encoding for a peer, the first sync of a client) works on every form; building the Y.Doc
 * on the main thread costs one Y.applyUpdate of the state (what loading costs).
 */
import * as Y from 'yjs'
import { newServerDoc } from '../storage/server-doc.js'
import { type BigDocHosting, BigDocSession } from './big-doc-session.js'

/** The doc while no Y.Doc is held. */
export interface EncodedDoc {
  /** The whole document as one update (pending structs included, as Yjs encodes them). */
  readonly update: Uint8Array
  readonly stateVector: Uint8Array
}

/**
 * Whether a state vector names no client: a client that holds nothing yet (a page opened
 * without local persistence) lacks the whole doc, which is the encoded form as it is.
 * Why: `Y.diffUpdate` decodes and re-encodes every struct to drop none of them, about the
 * cost of applying the doc; for 3,000 clients joining 1,000 encoded docs after a restart
 * that was ~3,000 of those on the event loop (issue 16).
 */
export function holdsNothing(stateVector: Uint8Array): boolean {
  return stateVector.byteLength === 1 && stateVector[0] === 0
}

export class DocHolder {
  private liveDoc: Y.Doc | undefined
  private encoded: EncodedDoc | undefined
  private session: BigDocSession | undefined
  /** The Y.Doc was built for a reader while the doc was in the worker: stays live until swept. */
  private keptLive = false
  /** Holders that keep the Y.Doc live whatever happens (direct connections). */
  private pins = 0
  /** Sweeps since the Y.Doc was last used. */
  private quietSweeps = 0
  private destroyed = false

  /**
   * `onUpdate` is the live Y.Doc's 'update' listener (not called for building it). `inWorker`:
   * the doc was loaded straight into the big-doc worker (room.ts open), `state` is its base.
   * `stateVector`: the state's, when the loader has it (storage/merge.ts loadStoredState);
   * decoded from `state` otherwise (every struct of the doc walked once).
   */
  constructor(
    state: Uint8Array,
    private readonly onUpdate: (update: Uint8Array, origin: unknown) => void,
    inWorker?: BigDocSession,
    stateVector?: Uint8Array,
  ) {
    if (inWorker) this.session = inWorker
    else this.encoded = { update: state, stateVector: stateVector ?? Y.encodeStateVectorFromUpdate(state) }
  }

  /** The live Y.Doc, built from the encoded form if needed. */
  get doc(): Y.Doc {
    this.quietSweeps = 0
    if (this.liveDoc) return this.liveDoc
    const doc = newServerDoc({ gc: true })
    const session = this.session
    if (session) {
      // Stalls the event loop for the doc's size: only direct connections, API writes and
      // hooks that take the doc get here (docs/architecture.md "Big and idle documents").
      for (const update of session.updates()) Y.applyUpdate(doc, update)
    } else Y.applyUpdate(doc, this.encoded?.update ?? new Uint8Array([0, 0]))
    // After destroy (a late reader): a detached copy, as a destroyed Y.Doc would be.
    if (this.destroyed) return doc
    if (session) {
      session.end()
      this.session = undefined
      this.keptLive = true
    }
    doc.on('update', this.onUpdate)
    this.liveDoc = doc
    this.encoded = undefined
    return doc
  }

  /** Whether a Y.Doc is held on this thread now (false: encoded, or in the worker). */
  get live(): boolean {
    return this.liveDoc !== undefined
  }

  /** The worker's session while the doc is held there (undefined otherwise). */
  get remote(): BigDocSession | undefined {
    if (this.session) this.quietSweeps = 0
    return this.session
  }

  /**
   * Whether the doc may move to the worker now: not pinned (a direct connection holds the
   * Y.Doc), not kept live for a reader, and a live doc holds no pending structs (they would
   * be encoded into the state; kept as they are instead).
   */
  get movable(): boolean {
    if (this.session) return true
    if (this.destroyed || this.pins > 0 || this.keptLive) return false
    const store = this.liveDoc?.store
    return !store || (store.pendingStructs === null && store.pendingDs === null)
  }

  /**
   * Moves the doc to the worker (a live doc is encoded here first: once, the doc's size) and
   * returns its session; the same session while it is there. Only when `movable`.
   */
  toWorker(host: BigDocHosting, docName: string): BigDocSession {
    this.quietSweeps = 0
    if (this.session) return this.session
    if (!this.movable) throw new Error('the document cannot leave the main thread now')
    const doc = this.liveDoc
    const state = doc
      ? { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
      : (this.encoded ?? { update: new Uint8Array([0, 0]), stateVector: new Uint8Array([0]) })
    if (doc) {
      doc.off('update', this.onUpdate)
      doc.destroy()
      this.liveDoc = undefined
    }
    this.encoded = undefined
    this.session = new BigDocSession(host, docName, state)
    return this.session
  }

  /** The encoded form, when no Y.Doc is held (undefined while live). */
  get encodedDoc(): EncodedDoc | undefined {
    return this.encoded
  }

  stateVector(): Uint8Array {
    if (this.session) return this.session.stateVector
    return this.encoded ? this.encoded.stateVector : Y.encodeStateVector(this.doc)
  }

  /**
   * What a peer at `stateVector` lacks (the whole doc without one). For a doc in the worker
   * this merges on the calling thread (big-doc-session.ts): rare readers only.
   */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (this.session) return this.session.encodeStateAsUpdate(stateVector)
    if (!this.encoded) return Y.encodeStateAsUpdate(this.doc, stateVector)
    return stateVector && !holdsNothing(stateVector)
      ? Y.diffUpdate(this.encoded.update, stateVector)
      : this.encoded.update
  }

  /** The doc's exact encoded size (in the worker: an upper bound, base plus accepted updates). */
  byteLength(): number {
    if (this.session) return this.session.byteBound
    return this.encoded ? this.encoded.update.byteLength : Y.encodeStateAsUpdate(this.doc).byteLength
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
    if (this.session) return this.sweepWorker(this.session)
    const doc = this.liveDoc
    if (!doc || this.destroyed || this.pins > 0 || this.quietSweeps++ < 1) return false
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) return false
    this.encoded = { update: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
    this.liveDoc = undefined
    this.keptLive = false
    doc.off('update', this.onUpdate)
    doc.destroy()
    return true
  }

  /**
   * A quiet doc in the worker comes back encoded once its accepted updates are folded into
   * the base (a snapshot on the worker, started by the first quiet sweep that finds them).
   */
  private sweepWorker(session: BigDocSession): boolean {
    if (this.destroyed || !session.idle || this.quietSweeps++ < 1) return false
    const encoded = session.encodedIfFolded()
    if (!encoded) {
      session.snapshot().catch(() => undefined)
      return false
    }
    session.end()
    this.session = undefined
    this.encoded = encoded
    return true
  }

  /** Stops reporting updates; the content stays readable (late readers, final reports). */
  destroy(): void {
    this.destroyed = true
    this.liveDoc?.off('update', this.onUpdate)
    this.liveDoc?.destroy()
    // Readable still from what the session kept; the worker lets the doc go.
    this.session?.end()
  }
}
