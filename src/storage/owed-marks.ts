/**
 * The durable "Redis may lack this doc's changes" marks (relay/data-loss-watch.ts publishes
 * the marked docs' stored state once Redis answers): a side table of the instance's LevelDB,
 * one key per doc, synced. Written by the relay (a room that went dirty while Redis was away)
 * and by an offline import (`import --data-dir`, which reaches no Redis at all).
 */
import type { LevelDocStore } from './level-doc-store.js'

/** The side table's name: `x\0relay-owed\0<doc>` keys. */
export const OWED_TABLE = 'relay-owed'
/** Every mark's value; the key (the doc name) is the mark. */
const MARK = new Uint8Array([1])

/** Marked docs of `store`: add (idempotent, on disk when it resolves), delete, list. */
export interface OwedMarks {
  add(docName: string, options?: { sync?: boolean }): Promise<void>
  delete(docName: string): Promise<void>
  names(): AsyncIterable<string>
}

/**
 * The owed marks kept in `store` (which must be open; writes need it writable). `sync: false`
 * for a bulk writer whose later writes to the same store are what must not outlive a mark
 * (LevelDB's log keeps write order, so an update written after its mark never survives
 * without it); the relay's marks are synced (default).
 */
export function owedMarks(store: LevelDocStore, options: { sync?: boolean } = {}): OwedMarks {
  const table = store.sideTable(OWED_TABLE)
  const sync = options.sync ?? true
  return {
    add: (docName, options) => table.put(docName, MARK, { sync: options?.sync ?? sync }),
    delete: (docName) => table.del(docName),
    async *names() {
      for await (const [docName] of table.entries()) yield docName
    },
  }
}
