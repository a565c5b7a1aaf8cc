/**
 * The store's write-behind queue: appends are batched and written once per flush interval
 * (or at the next flush()), one batch at a time, in order.
 *
 * The rule that shapes it: an update is never dropped because a write failed. A failed batch
 * goes back in front of the queue and a retry is armed (at least 250 ms later), unless the
 * store is shutting down — then the caller (close) gets the error instead, and no timer is
 * left behind to retry against a closed database or keep the process alive.
 */
import type { LogWrite } from './store-backend.js'

const MIN_RETRY_MS = 250

export interface WriteQueueOptions {
  readonly intervalMs: number
  /** Writes one batch; after a failure it is written again whole, under the same keys. */
  readonly write: (batch: readonly LogWrite[]) => Promise<void>
  /** Awaited before each batch is written, with the batch's docs (never rejects). */
  readonly beforeWrite?: (docs: ReadonlySet<string>) => Promise<void> | undefined
  /** True once the store is closing: arm no timers. */
  readonly stopped: () => boolean
  readonly onWritten: (batch: readonly LogWrite[], docs: ReadonlySet<string>, seconds: number) => void
  /** A background (timer) flush failed; the entries are kept and retried. */
  readonly onError: (error: unknown) => void
}

export class WriteQueue {
  private pending: LogWrite[] = []
  private pendingDocs = new Set<string>()
  private writingDocs: ReadonlySet<string> = new Set()
  private timer: NodeJS.Timeout | undefined
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly options: WriteQueueOptions) {}

  push(write: LogWrite): void {
    this.pending.push(write)
    this.pendingDocs.add(write.docName)
    this.arm(this.options.intervalMs)
  }

  /** Entries of the doc are queued or being written. */
  holds(docName: string): boolean {
    return this.pendingDocs.has(docName) || this.writingDocs.has(docName)
  }

  /** Forgets the doc's queued entries (deleted docs); a batch already being written is not recalled. */
  drop(docName: string): void {
    if (!this.pendingDocs.delete(docName)) return
    this.pending = this.pending.filter((entry) => entry.docName !== docName)
  }

  /** Writes everything queued before this call. Flushes are chained and never overlap. */
  flush(): Promise<void> {
    const next = this.chain.then(() => this.writePending())
    this.chain = next.catch(() => undefined)
    return next
  }

  /** Cancels the timer (closing: the closer flushes once itself). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(delayMs: number): void {
    if (this.timer || this.options.stopped()) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flush().catch(this.options.onError)
    }, delayMs)
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return
    const batch = this.pending
    const docs = this.pendingDocs
    this.pending = []
    this.pendingDocs = new Set()
    this.writingDocs = docs
    const started = performance.now()
    try {
      await this.options.beforeWrite?.(docs)
      await this.options.write(batch)
    } catch (error) {
      // In front again (order does not matter to Yjs), retried soon.
      this.pending = batch.concat(this.pending)
      for (const doc of docs) this.pendingDocs.add(doc)
      this.arm(Math.max(this.options.intervalMs, MIN_RETRY_MS))
      throw error
    } finally {
      this.writingDocs = new Set()
    }
    this.options.onWritten(batch, docs, (performance.now() - started) / 1000)
  }
}
