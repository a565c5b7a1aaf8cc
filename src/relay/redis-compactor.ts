/**
 * Folds a doc's stream into its Redis snapshot so the stream can be trimmed, off the hot
 * path: one instance at a time per doc (SET NX PX lock), reading snapshot + stream in one
 * MULTI, merging on the merge pool (a worker thread when big), then storing the new snapshot
 * and trimming in one compare-and-set script. Entries that fail validation are left out of
 * the snapshot (they could never be applied anyway) and logged.
 */
import type { Logger } from '../observability/logger.js'
import { validateUpdate } from '../protocol/messages.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import type { RedisClient } from './redis-client.js'
import { readDocState, releaseLock, tryLock, writeSnapshotAndTrim } from './redis-doc-state.js'
import type { DocKeys } from './redis-keys.js'
import { decodeEntry } from './stream-entry.js'

export interface CompactorOptions {
  readonly instanceId: string
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
  if (!(await tryLock(redis, keys, options.instanceId, options.lockMs))) return 'locked'
  try {
    const state = await readDocState(redis, keys)
    const last = state.entries.at(-1)
    if (!last) return 'nothing'
    const updates: Uint8Array[] = state.snapshot ? [state.snapshot] : []
    for (const [id, fields] of state.entries) {
      const decoded = decodeEntry(fields)
      if (!decoded.ok) {
        options.logger.warn(
          { stream: keys.stream, id: id.toString(), reason: decoded.reason },
          'compaction skips a bad entry',
        )
        continue
      }
      if (decoded.entry.kind !== 'u') continue
      const problem = validateUpdate(decoded.entry.data)
      if (problem) {
        options.logger.warn(
          { stream: keys.stream, id: id.toString(), reason: problem },
          'compaction skips a bad update',
        )
        continue
      }
      updates.push(decoded.entry.data)
    }
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
    await releaseLock(redis, keys, options.instanceId)
  }
}
