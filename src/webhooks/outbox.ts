/**
 * The durable outbox: every delivery this instance owes, one entry per event and endpoint,
 * in LevelDB (synced writes), mirrored in memory for scheduling. An entry is written before
 * its window is released in Redis and deleted only after its endpoint answered 2xx (or it
 * was given up), so a crash or restart at any point re-delivers, never drops (at-least-once;
 * the `webhook-id` is stable, so receivers dedupe).
 */
import type { SideTable } from '../storage/level-doc-store.js'

export interface OutboxEntry {
  /** `<webhook-id>:<endpoint index>`: one entry per event and endpoint. */
  readonly key: string
  /** The `webhook-id` header: the same for every attempt and every endpoint of one event. */
  readonly id: string
  readonly url: string
  /** The JSON body, fixed when the event was created: every attempt sends the same bytes. */
  readonly body: string
  /** Unix ms the event happened (window closed / doc deleted): the 24 h retry horizon starts here. */
  readonly createdAt: number
  readonly attempts: number
  readonly nextAttemptAt: number
}

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>()

  constructor(private readonly table: SideTable) {}

  /** Loads what a previous run left (pending deliveries survive restarts). */
  async load(): Promise<number> {
    for await (const [key, value] of this.table.entries()) {
      const entry = parseEntry(value)
      if (entry && entry.key === key) this.entries.set(key, entry)
      else await this.table.del(key) // unreadable: only a foreign or corrupted write; drop it
    }
    return this.entries.size
  }

  async put(entry: OutboxEntry): Promise<void> {
    await this.table.put(entry.key, Buffer.from(JSON.stringify(entry)))
    this.entries.set(entry.key, entry)
  }

  async remove(key: string): Promise<void> {
    await this.table.del(key)
    this.entries.delete(key)
  }

  get size(): number {
    return this.entries.size
  }

  /** Entries whose next attempt is due at `now`, oldest first, skipping `busy` keys. */
  due(now: number, limit: number, busy: ReadonlySet<string>): OutboxEntry[] {
    const due: OutboxEntry[] = []
    for (const entry of this.entries.values()) {
      if (entry.nextAttemptAt <= now && !busy.has(entry.key)) due.push(entry)
    }
    return due.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt).slice(0, limit)
  }

  /** Unix ms of the oldest pending event, undefined when empty. */
  oldestCreatedAt(): number | undefined {
    let oldest: number | undefined
    for (const entry of this.entries.values())
      if (oldest === undefined || entry.createdAt < oldest) oldest = entry.createdAt
    return oldest
  }
}

function parseEntry(value: Uint8Array): OutboxEntry | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value).toString('utf8'))
  } catch {
    return undefined // reported by the caller, which drops the entry
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const entry = parsed as Record<string, unknown>
  const strings = ['key', 'id', 'url', 'body'].every((field) => typeof entry[field] === 'string')
  const numbers = ['createdAt', 'attempts', 'nextAttemptAt'].every((field) => Number.isFinite(entry[field]))
  return strings && numbers ? (parsed as OutboxEntry) : undefined
}
