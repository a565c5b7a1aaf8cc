/**
 * Folds a doc's stream into its Redis snapshot so the stream can be trimmed, off the hot
 * path: one instance at a time per doc (SET NX PX lock), reading snapshot + stream in one
 * MULTI, merging on the merge pool (a worker thread when big), then storing the new snapshot
 * and trimming in one compare-and-set script. Entries that fail validation are left out of
 * the snapshot (they could never be applied anyway) and logged.
 */
import type { Logger } from '../observability/logger.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import type { RedisClient } from './redis-client.js'
import { entryUpdates, readDocState, releaseLock, tryLock, writeSnapshotAndTrim } from './redis-doc-state.js'
import type { DocKeys } from './redis-keys.js'

export interface CompactorOptions {
  /** The lock's owner: the relay's nonce (INSTANCE_ID may be shared, see instance-identity.ts). */
  readonly owner: string
  readonly lockMs: number
  readonly trimMarginMs: number
  readonly pool: WorkerPool
  readonly logger: Logger
}

export type CompactionOutcome = 'compacted' | 'locked' | 'raced' | 'nothing'

export async function compactDoc(
  redis: RedisClient,
  keys: DocKeys,
  options: CompactorOptions,
): Promise<CompactionOutcome> {
  if (!(await tryLock(redis, keys, options.owner, options.lockMs))) return 'locked'
  try {
    const state = await readDocState(redis, keys)
    const last = state.entries.at(-1)
    if (!last) return 'nothing'
    // Late entries from before a delete are left out of the snapshot (and trimmed with the rest).
    const updates = entryUpdates(
      state.entries,
      (id, reason) =>
        options.logger.warn({ stream: keys.stream, id, reason }, 'compaction skips a bad entry'),
      state.generation,
    )
    if (state.snapshot) updates.unshift(state.snapshot)
    const merged =
      updates.length === 0 ? new Uint8Array([0, 0]) : (await options.pool.compact(updates, true)).snapshot
    const written = await writeSnapshotAndTrim(
      redis,
      keys,
      state.snapshotLastId,
      merged,
      last[0].toString(),
      options.trimMarginMs,
    )
    return written ? 'compacted' : 'raced'
  } finally {
    await releaseLock(redis, keys, options.owner)
  }
}

/**
 * When a room's stream is compacted: after `threshold` entries seen (read or appended) since
 * the last compaction or sync, one compaction at a time. Counting restarts when one starts.
 */
export class CompactionTrigger {
  private seen = 0
  private running = false

  constructor(
    private readonly threshold: number,
    private readonly compact: () => Promise<void>,
  ) {}

  /** The stream holds `count` entries this room has accounted for (after a sync). */
  reset(count: number): void {
    this.seen = count
  }

  add(count = 1): void {
    this.seen += count
  }

  /** Starts a compaction when one is due and `allowed` (the room is open, Redis is up). */
  maybe(allowed: boolean): void {
    if (this.running || !allowed || this.seen < this.threshold) return
    this.running = true
    this.seen = 0
    void this.compact().finally(() => {
      this.running = false
    })
  }
}
