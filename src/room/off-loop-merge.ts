/**
 * Big updates into a room that holds its doc encoded (doc-holder.ts) are merged into the
 * encoded state on the worker pool instead of applied on the event loop, as y-redis does
 * (issue 16, option b): other rooms keep being served while a 5 MB paste is integrated.
 *
 *   big update, room encoded --> merge on the pool (chained: one at a time per room, each on
 *     the previous result) --> state replaced, then the update is fanned out as received
 *   merge failed (Yjs cannot apply it)  --> refused like a failed apply (nothing stored)
 *   the room went live meanwhile (a small update built its Y.Doc) --> applied there instead
 *
 * The update is fanned out (clients, store, relay, hooks) only once it merged, so nothing
 * unusable is ever stored; its connection's next message waits for it (the returned promise),
 * so a client's own order holds. Other connections are not held: their updates cannot depend
 * on one nobody has been sent yet, and a first sync answered meanwhile is completed by the
 * fan-out that follows. A room unloads only once its merges settled (RoomRegistry).
 */
import type { DocHolder, EncodedDoc, EncodedDocMerger } from './doc-holder.js'
import type { RoomConnection } from './room-connection.js'

/** From this size an update into an encoded room is merged off the event loop. */
export const OFF_LOOP_UPDATE_BYTES = 256 * 1024

/** What the room does with an update once its merge is decided. */
export interface OffLoopTarget {
  readonly content: DocHolder
  /** Merged into `content`: fan it out as received; returns its change hooks, if any. */
  accept(update: Uint8Array, connection: RoomConnection): Promise<void> | undefined
  /** The doc went live meanwhile: apply it there, as any update. */
  applyHere(update: Uint8Array, connection: RoomConnection): void
  /** Yjs could not apply it. */
  refuse(connection: RoomConnection, error: unknown): void
}

export class OffLoopMerges {
  /** The merges queued or running, in order (undefined when none). */
  private chain: Promise<void> | undefined

  constructor(
    private readonly merger: EncodedDocMerger,
    private readonly target: OffLoopTarget,
  ) {}

  /** Whether `update` goes off the loop: big, into a room held encoded (or already merging). */
  wants(update: Uint8Array): boolean {
    return (
      update.byteLength >= OFF_LOOP_UPDATE_BYTES && (!this.target.content.live || this.chain !== undefined)
    )
  }

  /** Merges `update` after the merges queued before it; resolves once it is fanned out and its hooks ran. */
  merge(update: Uint8Array, connection: RoomConnection): Promise<void> {
    const previous = this.chain ?? Promise.resolve()
    const job = previous.then(() => this.run(update, connection))
    const tail = job.then(
      () => undefined,
      () => undefined,
    )
    this.chain = tail
    void tail.then(() => {
      if (this.chain === tail) this.chain = undefined
    })
    return job
  }

  /** Resolves once every queued merge finished. */
  async settled(): Promise<void> {
    while (this.chain) await this.chain
  }

  private async run(update: Uint8Array, connection: RoomConnection): Promise<void> {
    const base = this.target.content.encodedDoc
    if (!base) {
      this.target.applyHere(update, connection)
      return
    }
    let merged: EncodedDoc
    try {
      merged = await this.merger.mergeEncoded(base.update, update)
    } catch (error) {
      this.target.refuse(connection, error)
      return
    }
    if (this.target.content.encodedDoc !== base) {
      this.target.applyHere(update, connection)
      return
    }
    this.target.content.replaceEncoded(merged)
    await this.target.accept(update, connection)
  }
}
