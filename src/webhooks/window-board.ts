/**
 * Where open change windows live until one instance claims them. Standalone: this process's
 * memory (LocalWindowBoard). Cluster: Redis (RedisWindowBoard), so that changes made on any
 * instance fall into one window per doc and exactly one instance delivers it.
 *
 * A window, per doc:   (none) --record--> open --due (debounce / max wait passed)--> claimed
 *                      claimed --persisted to the claimer's outbox--> (none)
 * A record after the claim opens a new window. A claim whose claimer died before it
 * persisted is taken over by another instance once its lease expires (cluster only).
 */
import { randomBytes } from 'node:crypto'
import type { ClosedWindow } from './webhook-event.js'

/** What one instance saw of a doc since it last recorded (ages in ms before the call). */
export interface LocalChanges {
  readonly doc: string
  readonly firstAgeMs: number
  readonly lastAgeMs: number
  readonly users: readonly string[]
  /** This instance's state vector of the doc (base64), if it has the doc open. */
  readonly stateVector: string | undefined
}

export interface WindowTiming {
  readonly debounceMs: number
  readonly maxWaitMs: number
}

export interface WindowBoard {
  /** Adds changes to the doc's open window (opening one if needed). Throws if unreachable. */
  record(changes: LocalChanges): Promise<void>
  /**
   * Claims windows that are due (and claims whose claimer died), up to `limit`. Each
   * returned window is this instance's to persist, then `release`.
   */
  claimDue(limit: number): Promise<ClosedWindow[]>
  /** The claimed window is in this instance's outbox: forget it. */
  release(window: ClosedWindow): Promise<void>
  /** The doc was deleted: drop its open window (a change event after the delete would mislead). */
  discard(doc: string): Promise<void>
  close(): Promise<void>
}

/** A new `webhook-id`: `msg_` + 128 random bits (the Standard Webhooks style of id). */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`
}

interface OpenWindow {
  readonly id: string
  readonly firstChangeAt: number
  lastChangeAt: number
  readonly users: Set<string>
  stateVector: string | undefined
}

/** One instance, no cluster: windows in memory (a crash loses the open ones; see docs). */
export class LocalWindowBoard implements WindowBoard {
  private readonly windows = new Map<string, OpenWindow>()

  constructor(
    private readonly timing: WindowTiming,
    private readonly now: () => number = Date.now,
  ) {}

  async record(changes: LocalChanges): Promise<void> {
    const now = this.now()
    let window = this.windows.get(changes.doc)
    if (!window) {
      window = {
        id: newMessageId(),
        firstChangeAt: now - changes.firstAgeMs,
        lastChangeAt: now - changes.lastAgeMs,
        users: new Set(),
        stateVector: undefined,
      }
      this.windows.set(changes.doc, window)
    }
    window.lastChangeAt = Math.max(window.lastChangeAt, now - changes.lastAgeMs)
    for (const user of changes.users) window.users.add(user)
    if (changes.stateVector !== undefined) window.stateVector = changes.stateVector
  }

  async claimDue(limit: number): Promise<ClosedWindow[]> {
    return this.claimUntil(this.now(), limit)
  }

  /**
   * Closes every open window now, due or not: on a graceful shutdown they go to the durable
   * outbox (delivered early) rather than die with the process.
   */
  claimAll(): ClosedWindow[] {
    return this.claimUntil(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)
  }

  private claimUntil(until: number, limit: number): ClosedWindow[] {
    const now = this.now()
    const claimed: ClosedWindow[] = []
    for (const [doc, window] of this.windows) {
      if (claimed.length >= limit) break
      if (dueAt(window, this.timing) > until) continue
      this.windows.delete(doc)
      claimed.push({
        id: window.id,
        doc,
        firstChangeAt: window.firstChangeAt,
        lastChangeAt: window.lastChangeAt,
        closedAt: now,
        users: [...window.users],
        stateVectors: window.stateVector !== undefined ? [window.stateVector] : [],
      })
    }
    return claimed
  }

  async release(): Promise<void> {
    // Claiming already removed the window from memory; nothing else holds it.
  }

  async discard(doc: string): Promise<void> {
    this.windows.delete(doc)
  }

  async close(): Promise<void> {
    this.windows.clear()
  }

  /** Open windows, for a graceful shutdown that closes them early. */
  get openCount(): number {
    return this.windows.size
  }
}

/** A window closes `debounceMs` after its last change or `maxWaitMs` after its first. */
export function dueAt(window: { firstChangeAt: number; lastChangeAt: number }, timing: WindowTiming): number {
  return Math.min(window.lastChangeAt + timing.debounceMs, window.firstChangeAt + timing.maxWaitMs)
}
