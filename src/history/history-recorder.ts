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
        entry.timer = setTimeout(() => {
          if (entry) entry.timer = undefined
          void this.options.checkpoint(docName)
        }, this.options.intervalMs)
        // A pending checkpoint never keeps the process alive on its own.
        entry.timer.unref()
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

  /** Docs with changes not yet in a checkpoint. */
  get pendingDocs(): number {
    return this.pending.size
  }

  close(): void {
    this.closed = true
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer)
    this.pending.clear()
  }
}
