/**
 * This instance's side of the change windows: collects who changed which doc since the last
 * write to the board, and writes at most one batch at a time (a burst of keystrokes costs
 * one Redis script per doc per round trip, not one per keystroke). While Redis is away the
 * changes stay here, merged, and go out with the next successful write.
 */
import type { LocalChanges, WindowBoard } from './window-board.js'

interface Pending {
  firstAt: number
  lastAt: number
  readonly users: Set<string>
}

export class ChangeRecorder {
  private pending = new Map<string, Pending>()
  private writing: Promise<void> | undefined
  /** After a failed write, notes only accumulate; the service's tick retries (no storm). */
  private failing = false

  constructor(
    private readonly board: WindowBoard,
    /** The doc's current state vector on this instance (base64), if it is open here. */
    private readonly stateVector: (doc: string) => string | undefined,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A change accepted by this instance (never one relayed from another: that one recorded it). */
  note(doc: string, user: string | undefined): void {
    const now = this.now()
    let entry = this.pending.get(doc)
    if (!entry) {
      entry = { firstAt: now, lastAt: now, users: new Set() }
      this.pending.set(doc, entry)
    }
    entry.lastAt = now
    if (user !== undefined) entry.users.add(user)
    if (!this.failing) void this.write()
  }

  /** The doc was deleted: its unrecorded changes must not produce a change event. */
  forget(doc: string): void {
    this.pending.delete(doc)
  }

  get pendingDocs(): number {
    return this.pending.size
  }

  /**
   * Writes what is pending; resolves when the board has it (or the write failed and it is
   * pending again). Single-flight: a call during a write waits for it, then writes the rest.
   */
  async write(): Promise<void> {
    while (this.writing) await this.writing
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    this.writing = this.writeBatch(batch).finally(() => {
      this.writing = undefined
    })
    await this.writing
  }

  private async writeBatch(batch: Map<string, Pending>): Promise<void> {
    const now = this.now()
    const results = await Promise.allSettled(
      [...batch].map(([doc, entry]) => {
        const changes: LocalChanges = {
          doc,
          firstAgeMs: now - entry.firstAt,
          lastAgeMs: now - entry.lastAt,
          users: [...entry.users],
          stateVector: this.stateVector(doc),
        }
        return this.board.record(changes).catch((error: unknown) => {
          this.restore(doc, entry)
          throw error
        })
      }),
    )
    const failure = results.find((result) => result.status === 'rejected')
    this.failing = failure !== undefined
    if (failure) this.onError((failure as PromiseRejectedResult).reason)
  }

  /** Puts a batch entry back, merged with anything noted meanwhile. */
  private restore(doc: string, entry: Pending): void {
    const newer = this.pending.get(doc)
    if (!newer) {
      this.pending.set(doc, entry)
      return
    }
    newer.firstAt = Math.min(newer.firstAt, entry.firstAt)
    newer.lastAt = Math.max(newer.lastAt, entry.lastAt)
    for (const user of entry.users) newer.users.add(user)
  }
}
