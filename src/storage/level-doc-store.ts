/**
 * DocStore on LevelDB: the core (base-doc-store.ts: batching, retry, compaction policy,
 * lifecycle) over LevelBackend (level-backend.ts: the on-disk layout, unchanged since the
 * first release, so existing data directories open as they are), plus what only a LevelDB
 * store offers: the raw database for stores sharing it (version history), durable side
 * tables, and giving compacted-away space back to the disk.
 */
import type { Level } from 'level'
import { BaseDocStore, type DocStoreOptions } from './base-doc-store.js'
import { DOC_PREFIX, LevelBackend, prefixEnd, SEP } from './level-backend.js'

export { prefixEnd } from './level-backend.js'
export { StoreAccessError, StoreLockedError } from './open-error.js'

/** See LevelDocStore.sideTable. Keys are any strings without U+0000 in practice. */
export interface SideTable {
  /** `sync: false` skips the fsync (default true): for bulk writes ordered before a synced one. */
  put(key: string, value: Uint8Array, options?: { sync?: boolean }): Promise<void>
  del(key: string): Promise<void>
  entries(): AsyncIterable<readonly [string, Uint8Array]>
}

/** readOnly here also means: no boot id is written and the directory is never created. */
export type LevelDocStoreOptions = DocStoreOptions

export class LevelDocStore extends BaseDocStore {
  private readonly level: LevelBackend

  constructor(
    readonly location: string,
    options: LevelDocStoreOptions = {},
  ) {
    const backend = new LevelBackend(location)
    super(backend, options)
    this.level = backend
  }

  /**
   * The LevelDB itself, for stores that keep their own key range in the same database (one
   * process may open a LevelDB directory): version history uses `h\0…`. They must never
   * write under `d\0` or `m\0`.
   */
  get database(): Level<string, Uint8Array> {
    return this.level.db
  }

  /**
   * Has LevelDB rewrite the files that hold doc keys now, so the entries compactions
   * deleted leave the disk. Left alone, LevelDB drops deleted entries only when its own
   * background compactions reach those files, which on a store that is no longer written
   * (an offline compaction run) is never: the directory grew after compacting (issue 11,
   * 95 kB -> 106 kB on 5 docs x 300 updates). Costs one pass over the doc key range.
   */
  async reclaimSpace(): Promise<void> {
    this.assertOpen()
    this.assertWritable()
    await this.flush()
    // `level` types the database as the browser/Node union; on Node it is classic-level,
    // which has compactRange. Elsewhere there is nothing on disk to reclaim.
    const db = this.level.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> }
    if (typeof db.compactRange !== 'function') return
    await db.compactRange(DOC_PREFIX, prefixEnd(DOC_PREFIX))
  }

  /**
   * A small durable key-value table beside the documents, in the same LevelDB (one process
   * owns a data dir, so a second LevelDB would need a second lock and directory). Writes are
   * synced to disk before they resolve: callers use it for state that must survive a crash.
   */
  sideTable(table: string): SideTable {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(table)) throw new TypeError(`bad side table name "${table}"`)
    const prefix = `x${SEP}${table}${SEP}`
    const writable = () => {
      this.assertOpen()
      this.assertWritable()
      return this.level.db
    }
    const level = this.level
    const assertOpen = () => this.assertOpen()
    return {
      put: async (key, value, options) => {
        await writable().put(prefix + key, value, { sync: options?.sync ?? true })
      },
      del: async (key) => {
        await writable().del(prefix + key, { sync: true })
      },
      entries: async function* () {
        assertOpen()
        for await (const [key, value] of level.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
          yield [key.slice(prefix.length), value] as const
        }
      },
    }
  }
}
