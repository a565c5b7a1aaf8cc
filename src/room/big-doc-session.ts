/**
 * A room's document while a worker thread holds its Y.Doc (workers/big-doc-host.ts): the
 * third form of doc-holder.ts, for documents too big to apply to, encode or cut on the main
 * event loop. The main thread keeps what it needs to answer synchronously and to rebuild the
 * doc elsewhere: the state the worker was opened with (`base`), every update the worker has
 * accepted since (`pending`), and the latest state vector (sent back with every apply).
 *
 *   open(base) --apply--> worker applies; accepted: appended to pending, then fanned out by the room
 *              --snapshot--> worker encodes; base := it, pending := what was accepted after it
 *              --end--> worker drops its doc (after everything posted before)
 *
 * Ordering: the worker answers in posting order, so the room fans out in the order the doc
 * accepted. An apply answered after `end()` reports 'ended': the doc was rebuilt elsewhere
 * from base + pending without it, so the room applies it there.
 */
import * as Y from 'yjs'
import type { ApplyReply, LentReply, SnapshotReply, ValidateReply } from '../workers/big-doc-protocol.js'
import type { EncodedDoc } from './doc-holder.js'

/** The big-doc host as a session uses it (workers/big-doc-host.ts). */
export interface BigDocHosting {
  /** Changes when the worker thread was replaced: docs opened before must be opened again. */
  readonly generation: number
  open(key: string, updates: readonly Uint8Array[]): Promise<Uint8Array>
  /** `open` of one update whose buffer is handed over, not copied (big-doc-host.ts). */
  openLent?(key: string, update: Uint8Array): Promise<LentReply>
  close(key: string): void
  apply(key: string, update: Uint8Array, lend?: boolean): Promise<ApplyReply>
  /** Validates a client message there, its buffer handed over and back (big-doc-host.ts). */
  validate(message: Uint8Array): Promise<ValidateReply>
  firstSync(key: string, stateVector: Uint8Array, maxPieceBytes: number): Promise<Uint8Array[]>
  snapshot(key: string): Promise<SnapshotReply>
}

/** What became of one update sent to the worker. */
export type ApplyOutcome =
  /**
   * Applied (or refused by Yjs: `error`); accepted bytes are already in the session.
   * `update`: the update's bytes (handed back by the worker when they were lent).
   */
  | { readonly kind: 'applied'; readonly reply: ApplyReply; readonly update: Uint8Array }
  /** The session ended first: the doc now lives elsewhere, apply `update` there. */
  | { readonly kind: 'ended'; readonly update: Uint8Array }
  /** The worker failed: nothing was applied (the doc is opened again on next use). */
  | { readonly kind: 'failed'; readonly error: unknown }

/** Accepted updates kept apart from `base` before a snapshot folds them in (bounds their count). */
const MAX_PENDING_UPDATES = 4096

let sessions = 0

export class BigDocSession {
  private readonly key: string
  private base: Uint8Array
  /** Accepted since `base`, each with the number of the apply that carried it. */
  private pending: { readonly seq: number; readonly update: Uint8Array }[] = []
  private pendingBytes = 0
  private vector: Uint8Array
  private generation: number
  /** Applies posted so far (numbers them). */
  private posted = 0
  private inFlight = 0
  private snapshotting = 0
  private ended = false

  /** Resolves with the state vector once the worker has built the doc (rejects: it could not). */
  readonly opened: Promise<Uint8Array>

  /** @param lend hand `state.update` to the worker (see `load`) instead of copying it */
  constructor(
    private readonly host: BigDocHosting,
    docName: string,
    state: EncodedDoc,
    lend = false,
  ) {
    this.key = `${++sessions}:${docName}`
    this.base = state.update
    this.vector = state.stateVector
    this.opened =
      lend && host.openLent
        ? host.openLent(this.key, state.update).then((reply) => {
            this.base = reply.updates[0]!
            return reply.stateVector
          })
        : host.open(this.key, [state.update])
    // A failure shows again in the requests that follow (they fail on a missing doc).
    this.opened.catch(() => undefined)
    this.generation = host.generation
  }

  /**
   * A session for a doc just loaded, without its state vector yet (the worker computes it:
   * 2-18 ms of main thread for 5 MB). `update`'s buffer is handed to the worker, not copied
   * (a 50 MB copy on the event loop), and the worker's copy of it becomes the base: `update`
   * is unusable after the call, also when it rejects. Rejects, with the session ended, when
   * the worker fails.
   */
  static async load(host: BigDocHosting, docName: string, update: Uint8Array): Promise<BigDocSession> {
    const session = new BigDocSession(host, docName, { update, stateVector: new Uint8Array([0]) }, true)
    try {
      session.vector = await session.opened
    } catch (error) {
      session.end()
      throw error
    }
    return session
  }

  get stateVector(): Uint8Array {
    return this.vector
  }

  /** An upper bound on the doc's encoded size: base plus what was accepted since. */
  get byteBound(): number {
    return this.base.byteLength + this.pendingBytes
  }

  /** Nothing is on its way to or from the worker. */
  get idle(): boolean {
    return this.inFlight === 0 && this.snapshotting === 0
  }

  /** The doc as updates (base first): enough to rebuild it anywhere. */
  updates(): Uint8Array[] {
    return [this.base, ...this.pending.map((entry) => entry.update)]
  }

  /** The whole doc encoded, when nothing was accepted since the base (else undefined). */
  encodedIfFolded(): EncodedDoc | undefined {
    return this.pending.length === 0 ? { update: this.base, stateVector: this.vector } : undefined
  }

  /**
   * What a peer at `stateVector` lacks (the whole doc without one), on the calling thread:
   * a merge of base and pending and a diff, the doc's size in CPU. For rare readers only (the
   * document API, history, hooks); clients are served by `firstSync`.
   */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    const whole = this.pending.length === 0 ? this.base : Y.mergeUpdates(this.updates())
    return stateVector ? Y.diffUpdate(whole, stateVector) : whole
  }

  /**
   * Applies `update` on the worker; accepted bytes are added to the session before it resolves.
   * `lend`: see BigDocHosting.apply; use the outcome's `update` from then on (lost if 'failed').
   */
  apply(update: Uint8Array, lend = false): Promise<ApplyOutcome> {
    if (this.ended) return Promise.resolve({ kind: 'ended', update })
    this.ensureOpen()
    const seq = ++this.posted
    this.inFlight += 1
    return this.host.apply(this.key, update, lend).then(
      (reply): ApplyOutcome => {
        this.inFlight -= 1
        const bytes = reply.returned ?? update
        if (this.ended) return { kind: 'ended', update: bytes }
        if (reply.integrated) this.accepted(seq, reply.integrated)
        if (reply.told && !reply.error) this.accepted(seq, bytes)
        this.vector = reply.stateVector
        if (this.pending.length > MAX_PENDING_UPDATES && this.snapshotting === 0)
          this.snapshot().catch(() => undefined)
        return { kind: 'applied', reply, update: bytes }
      },
      (error: unknown): ApplyOutcome => {
        this.inFlight -= 1
        return { kind: 'failed', error }
      },
    )
  }

  /** A first sync cut on the worker (see first-sync.ts). */
  firstSync(stateVector: Uint8Array, maxPieceBytes: number): Promise<Uint8Array[]> {
    this.ensureOpen()
    return this.host.firstSync(this.key, stateVector, maxPieceBytes)
  }

  /**
   * The doc encoded on the worker with every update accepted before the call (compaction);
   * it becomes the new base. Rejects when the worker failed.
   */
  async snapshot(): Promise<Uint8Array> {
    this.ensureOpen()
    const covered = this.posted
    const generation = this.generation
    this.snapshotting += 1
    try {
      const snapshot = await this.host.snapshot(this.key)
      if (!this.ended && generation === this.generation) {
        this.base = snapshot.update
        this.pending = this.pending.filter((entry) => entry.seq > covered)
        this.pendingBytes = this.pending.reduce((sum, entry) => sum + entry.update.byteLength, 0)
        if (this.pending.length === 0) this.vector = snapshot.stateVector
      }
      return snapshot.update
    } finally {
      this.snapshotting -= 1
    }
  }

  /** Lets the worker drop the doc; later applies report 'ended'. Idempotent. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.host.close(this.key)
  }

  private accepted(seq: number, update: Uint8Array): void {
    this.pending.push({ seq, update })
    this.pendingBytes += update.byteLength
  }

  /** A replaced worker thread lost our doc: open it again from what we kept. */
  private ensureOpen(): void {
    const generation = this.host.generation
    if (generation === this.generation) return
    this.host.open(this.key, this.updates()).catch(() => undefined)
    this.generation = this.host.generation
  }
}
