/**
 * The outside-world parts of a server, built from a config in one place: the worker pool
 * (CPU work off the event loop), the document store (LevelDB) and the relay (Redis Streams,
 * or none standalone). The server (app.ts) and the CLI subcommands that open a data
 * directory offline (compact, export, import) both get their parts here, so a new storage
 * backend or a change to how the store is tuned is made once.
 *
 * The pool is the process's only one: the store, the relay (merging Redis state) and the
 * gateway (validating big messages) are all handed this one; nothing else creates one.
 *
 * Nothing here opens anything: the store opens on `store.open()`, the relay on `start()`.
 * `close()` releases what was built, in reverse order (relay, store, pool), and is safe to
 * call twice.
 */
import { availableParallelism } from 'node:os'
import { type Config, resolveConfig } from './config/config.js'
import type { Logger } from './observability/logger.js'
import type { Metrics } from './observability/metrics.js'
import { storeObserver } from './observability/store-observer.js'
import { createRelayFromConfig } from './relay/create-relay.js'
import { NullRelay } from './relay/null-relay.js'
import type { RedisRelayTuning } from './relay/redis-stream-relay.js'
import type { Relay } from './relay/relay.js'
import { LevelDocStore } from './storage/level-doc-store.js'
import { WorkerPool } from './workers/worker-pool.js'

export interface Adapters {
  /** One pool of worker threads for loading and compacting docs and validating big messages. */
  readonly workers: WorkerPool
  readonly store: LevelDocStore
  /** A NullRelay standalone (no REDIS_URL / REDIS_CLUSTER_NODES) and offline. */
  readonly relay: Relay
  /** Closes the relay, the store, then the pool. Idempotent. */
  close(): Promise<void>
}

/** How a server uses its parts: with metrics and logs, and a relay when the config asks for one. */
export interface ServerAdapterOptions {
  readonly logger: Logger
  readonly metrics: Metrics
  /** A relay to use instead of the one the config asks for. */
  readonly relay?: Relay
  /** Tuning of the Redis relay built from config (tests shrink thresholds). */
  readonly relayTuning?: Partial<RedisRelayTuning>
}

/**
 * How an operator tool uses a stopped instance's directory: no relay, no metrics, and the
 * tool decides what to compact unless `autoCompact` (an import leaves snapshots, not
 * thousands of log entries).
 */
export interface OfflineAdapterOptions {
  readonly offline: true
  /** Leave the directory exactly as it was (export, verify, dry runs). */
  readonly readOnly: boolean
  readonly autoCompact?: boolean
}

export function createAdapters(
  config: Config,
  options: ServerAdapterOptions | OfflineAdapterOptions,
): Adapters {
  const workers = new WorkerPool(Math.max(1, availableParallelism() - 1))
  let store: LevelDocStore
  let relay: Relay = new NullRelay()
  if ('offline' in options) {
    store = new LevelDocStore(config.dataDir, {
      pool: workers,
      readOnly: options.readOnly,
      ...(options.autoCompact ? {} : { compactLogBytes: 0 }),
    })
  } else {
    store = new LevelDocStore(config.dataDir, {
      pool: workers,
      flushIntervalMs: config.flushIntervalMs,
      compactLogEntries: config.compactLogEntries,
      compactLogBytes: config.compactLogBytes,
      observer: storeObserver(options.metrics, options.logger),
    })
    relay =
      options.relay ??
      createRelayFromConfig(config, {
        logger: options.logger,
        metrics: options.metrics,
        workers,
        ...(options.relayTuning ? { tuning: options.relayTuning } : {}),
      })
  }
  let closing: Promise<void> | undefined
  return {
    workers,
    store,
    relay,
    close() {
      closing ??= (async () => {
        await relay.close()
        await store.close()
        await workers.close()
      })()
      return closing
    },
  }
}

/**
 * The parts of a stopped instance's directory, for the CLI (compact, export, import): the
 * server's own defaults (resolveConfig reads no environment) with `dataDir`, offline.
 */
export function offlineAdapters(dataDir: string, options: Omit<OfflineAdapterOptions, 'offline'>): Adapters {
  return createAdapters(resolveConfig({ dataDir }), { offline: true, ...options })
}
