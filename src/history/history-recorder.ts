/**
 * Decides WHEN a doc gets an automatic checkpoint, and remembers WHO changed it since the
 * previous one.
 *
 * Editing time: a doc's clock starts at its first change after its previous checkpoint (or
 * after this process started) and the checkpoint is taken HISTORY_INTERVAL_MS later. So a
 * doc edited without pause gets a checkpoint every interval, a doc edited once gets one
 * interval after that edit, and a doc nobody touches gets none (no timer, no cost). Any
 * checkpoint (scheduled, on demand, before a restore) resets the clock and the user list.
 *
 * Only changes made through THIS instance count (clients, the admin API, server-side
 * editors), never updates relayed from other instances: in a cluster the instance whose
 * editors change a doc checkpoints it, and instances that only mirror it do not, so one
 * stream of edits is not checkpointed N times over (docs/history.md).
 *
 * Due checkpoints are taken one at a time, each started from its own macrotask: docs first
 * changed together (a restart, clients reconnecting) come due in the same millisecond, and
 * 1,000 checkpoints started at once (encode, write, prune) stalled every doc for ~70 ms per
 * burst (issue 16). A due doc waits for the ones before it, a few ms each.
 */
import type { ChangeOrigin } from '../hooks.js'

export interface HistoryRecorderOptions {
  /** 0 disables automatic checkpoints (on-demand and pre-restore ones still happen). */
  readonly intervalMs: number
  /** Takes the scheduled checkpoint; errors are the caller's to log. */
  readonly checkpoint: (docName: string) => Promise<unknown>
}

interface Pending {
  readonly users: Set<string>
  timer: NodeJS.Timeout | undefined
}

/** The name a change is recorded under in a checkpoint's `users`. */
export function userOf(origin: ChangeOrigin): string | undefined {
  switch (origin.kind) {
    case 'relay':
      return undefined
    case 'client':
      // Without auth there is no subject; "anonymous" still tells that someone edited.
      return origin.user?.id ?? 'anonymous'
    case 'server':
      return origin.user?.id ?? 'server'
    case 'api':
      return 'api'
  }
}

export class HistoryRecorder {
  private readonly pending = new Map<string, Pending>()
  /** Docs whose checkpoint is due, in order, with the entry that came due. */
  private readonly due = new Map<string, Pending>()
  private running = false
  private next: NodeJS.Immediate | undefined
  private closed = false

  constructor(private readonly options: HistoryRecorderOptions) {}

  /** Notes a change accepted into `docName` (the onChange hook). */
  noteChange(docName: string, origin: ChangeOrigin): void {
    const user = userOf(origin)
    if (user === undefined || this.closed) return
    let entry = this.pending.get(docName)
    if (!entry) {
      entry = { users: new Set(), timer: undefined }
      this.pending.set(docName, entry)
      if (this.options.intervalMs > 0) {
        const due = entry
        const timer = setTimeout(() => {
          due.timer = undefined
          this.due.set(docName, due)
          this.takeNextDue()
        }, this.options.intervalMs)
        // A pending checkpoint never keeps the process alive on its own.
        timer.unref()
        due.timer = timer
      }
    }
    entry.users.add(user)
  }

  /** A checkpoint of `docName` is being taken: returns who changed it since the last one and resets its clock. */
  take(docName: string): string[] {
    const entry = this.pending.get(docName)
    if (!entry) return []
    if (entry.timer) clearTimeout(entry.timer)
    this.pending.delete(docName)
    return [...entry.users]
  }

  /** Starts the next due checkpoint in a macrotask of its own, unless one is running. */
  private takeNextDue(): void {
    if (this.running || this.next || this.due.size === 0 || this.closed) return
    this.next = setImmediate(() => {
      this.next = undefined
      for (const [docName, entry] of this.due) {
        this.due.delete(docName)
        // Taken meanwhile (on demand, before a restore): its clock restarted, nothing is due.
        if (this.pending.get(docName) !== entry) continue
        this.running = true
        const done = (): void => {
          this.running = false
          this.takeNextDue()
        }
        this.options.checkpoint(docName).then(done, done)
        return
      }
    })
    // Like the timers: a due checkpoint never keeps the process alive on its own.
    this.next.unref()
  }

  /** Docs with changes not yet in a checkpoint. */
  get pendingDocs(): number {
    return this.pending.size
  }

  /** Docs whose checkpoint is due and waits for the one running (or for its macrotask). */
  get dueDocs(): number {
    return this.due.size
  }

  close(): void {
    this.closed = true
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer)
    this.pending.clear()
    this.due.clear()
    if (this.next) clearImmediate(this.next)
    this.next = undefined
  }
}
