/**
 * What the document store reports (flushes, write errors, compactions) turned into metrics
 * and log lines. The store itself knows neither Prometheus nor pino.
 */
import type { StoreObserver } from '../storage/doc-store.js'
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'

export function storeObserver(metrics: Metrics, logger: Logger): StoreObserver {
  return {
    onFlush: (seconds, entries) => {
      metrics.persistLatency.observe(seconds)
      metrics.persistedUpdates.inc(entries)
    },
    onFlushError: (error) => {
      metrics.persistErrors.inc()
      logger.error({ err: error }, 'LevelDB write failed; retrying')
    },
    onCompaction: (result) => {
      metrics.compactions.inc({ result: 'ok' })
      metrics.compactionSeconds.observe(result.durationMs / 1000)
      logger.debug({ ...result }, 'document compacted')
    },
    onCompactionError: (docName, error) => {
      metrics.compactions.inc({ result: 'error' })
      logger.error({ doc: docName, err: error }, 'compaction failed; log kept')
    },
  }
}
