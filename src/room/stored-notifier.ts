/**
 * Drives the `onStoreDocument` hook: "this doc's changes are on disk", debounced per doc so
 * a typing burst is one call, not hundreds. A doc's call comes `debounceMs` after its last
 * change, or `maxWaitMs` after its first unreported change (whichever is first), and when
 * its room unloads or the server closes. Before each call the store is flushed, so the
 * promise holds; the state handed over is encoded at call time. One call per doc at a time:
 * changes during a call schedule the next one.
 */

export interface StoredNotifierOptions {
  readonly debounceMs: number
  readonly maxWaitMs: number
  /** Makes everything queued durable (DocStore.flush). */
  flush(): Promise<void>
  /** Calls the hook; never rejects (the hook runner logs and counts errors). */
  notify(docName: string, state: Uint8Array): Promise<void>
  /** The flush failed: the hook is not called (its promise would not hold) until the next change. */
  onFlushError(docName: string, error: unknown): void
}

interface PendingDoc {
  /** The doc's current state, encoded when the hook runs (the room's, while it is open). */
  encode: () => Uint8Array
  firstChangeAt: number
  timer: NodeJS.Timeout | undefined
  running: Promise<void> | undefined
  /** Changed again while the hook was running. */
  dirty: boolean
}

export class StoredNotifier {
  private readonly docs = new Map<string, PendingDoc>()
  private closed = false

  constructor(private readonly options: StoredNotifierOptions) {}

  /** `docName` changed; `encode` returns its state when the hook runs. */
  changed(docName: string, encode: () => Uint8Array): void {
    if (this.closed) return
    const now = Date.now()
    let doc = this.docs.get(docName)
    if (!doc) {
      doc = { encode, firstChangeAt: now, timer: undefined, running: undefined, dirty: false }
      this.docs.set(docName, doc)
    }
    doc.encode = encode
    if (doc.running) {
      doc.dirty = true
      return
    }
    this.schedule(docName, doc, now)
  }

  /**
   * The doc's room is going away: if a change is unreported, report it now with the room's
   * final state (`encode` is called before this resolves, while the room still exists).
   */
  async unloading(docName: string, encode: () => Uint8Array): Promise<void> {
    const doc = this.docs.get(docName)
    if (!doc) return
    // Encoded now: a report that has to wait for a running one happens after the room is gone.
    const state = encode()
    doc.encode = () => state
    await this.runNow(docName, doc)
  }

  /** Reports every unreported change, then stops. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true
    // A doc changed while its hook ran needs one more round; changes stop once closing.
    for (let round = 0; round < 3 && this.docs.size > 0; round++) {
      await Promise.all([...this.docs].map(([docName, doc]) => this.runNow(docName, doc)))
    }
  }

  private schedule(docName: string, doc: PendingDoc, now: number): void {
    if (doc.timer) clearTimeout(doc.timer)
    const delay = Math.max(
      0,
      Math.min(this.options.debounceMs, doc.firstChangeAt + this.options.maxWaitMs - now),
    )
    doc.timer = setTimeout(() => void this.runNow(docName, doc), delay)
    // A pending report must not keep the process alive; close() reports what is left.
    doc.timer.unref()
  }

  private async runNow(docName: string, doc: PendingDoc): Promise<void> {
    if (doc.timer) clearTimeout(doc.timer)
    doc.timer = undefined
    if (doc.running) {
      doc.dirty = true
      await doc.running
      return
    }
    doc.dirty = false
    doc.running = (async () => {
      try {
        await this.options.flush()
      } catch (error) {
        this.options.onFlushError(docName, error)
        return
      }
      await this.options.notify(docName, doc.encode())
    })()
    try {
      await doc.running
    } finally {
      doc.running = undefined
      if (!doc.dirty) this.docs.delete(docName)
      else if (!this.closed) {
        doc.firstChangeAt = Date.now()
        this.schedule(docName, doc, doc.firstChangeAt)
      }
    }
  }
}
