/**
 * Builds the history service of a server from its parts: checkpoints in the server's own
 * LevelDB, live documents through the room registry (a doc not open here is loaded — and
 * caught up with the cluster — for the duration of one operation, then released to the
 * normal idle unload), metrics and logs.
 */
import type { Config } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { RoomRegistry } from '../room/room-registry.js'
import type { LevelDocStore } from '../storage/level-doc-store.js'
import { CheckpointStore } from './checkpoint-store.js'
import { HistoryService, type WithRoom } from './history-service.js'

export interface HistoryParts {
  readonly config: Pick<Config, 'historyIntervalMs' | 'historyKeep'>
  readonly store: LevelDocStore
  /** Resolved lazily: the registry is built after the history hook it calls. */
  readonly registry: () => RoomRegistry
  /** Whether any part of the cluster holds the doc, without opening a room (DocumentService.exists). */
  readonly docExists: (docName: string) => Promise<boolean>
  readonly logger: Logger
  readonly metrics: Metrics
}

export function historyForApp(parts: HistoryParts): HistoryService {
  const withRoom: WithRoom = async (docName, use) => {
    const registry = parts.registry()
    const room = await registry.acquire(docName)
    try {
      return await use({
        encodeState: () => room.encodeStateAsUpdate(),
        // The compaction's source: the worker's encode for a big doc, the held update for an
        // encoded one, else (undefined: a live doc over 1 MiB) the same encode as above.
        checkpointState: async () => (await room.compactionState()) ?? room.encodeStateAsUpdate(),
        // Origin kind 'api': stored, broadcast, relayed, and hooks see an API change.
        applyServerUpdate: (update) => room.applyApiUpdate(update),
      })
    } finally {
      registry.release(room)
    }
  }
  return new HistoryService({
    store: new CheckpointStore(() => parts.store.database),
    withRoom,
    exists: parts.docExists,
    intervalMs: parts.config.historyIntervalMs,
    keep: parts.config.historyKeep,
    logger: parts.logger.child({ part: 'history' }),
    observer: {
      onCheckpoint: (reason) => parts.metrics.historyCheckpoints.inc({ reason }),
      onRestore: (seconds) => parts.metrics.historyRestoreSeconds.observe(seconds),
      onError: () => parts.metrics.historyErrors.inc(),
    },
  })
}
