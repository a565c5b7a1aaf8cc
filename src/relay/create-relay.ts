/**
 * Picks the relay for a config: a NullRelay standalone; Redis Streams when REDIS_URL is set
 * (one Redis: a blocking multi-stream reader, pipelined appends) or REDIS_CLUSTER_NODES is
 * set (Redis Cluster: doorbells and non-blocking reads; see topology.ts and docs/cluster.md),
 * and the ioredis connection options each needs.
 */
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { type Config, redactUrl } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import { ioredis } from './ioredis-module.js'
import { NullRelay } from './null-relay.js'
import { RedisStreamRelay } from './redis-stream-relay.js'
import type { Relay } from './relay.js'
import { redisClusterTopology, singleRedisTopology } from './topology.js'
import { DEFAULT_RELAY_TUNING, type RedisRelayTuning } from './tuning.js'

const CONNECTION_OPTIONS: RedisOptions = {
  lazyConnect: true,
  // RESP2: stream replies keep their classic nested-array shape.
  protocol: 2,
  // Fail fast while disconnected: the relay marks rooms dirty and resyncs them on reconnect,
  // instead of ioredis replaying stale commands (a blocking XREAD above all) later.
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  connectTimeout: 2000,
}

function clusterOptions(connectionName: string, sharded: boolean, commandTimeout: number): ClusterOptions {
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = CONNECTION_OPTIONS
  return {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    // Commands issued in one tick go out as one batch per node (a pipeline cannot span nodes).
    enableAutoPipelining: true,
    // ioredis would auto-pipeline these onto the node's command connection (turning it into
    // a subscriber that rejects XREAD) instead of the sharded subscriber connection.
    autoPipeliningIgnoredCommands: ['ssubscribe', 'sunsubscribe'],
    // MOVED/ASK are followed by ioredis; a periodic refresh also notices a migration that no
    // command of ours ran into, so the doorbell subscriptions move with their slots.
    slotsRefreshInterval: 5000,
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 50,
    retryDelayOnClusterDown: 100,
    // One sharded-pub/sub connection per master, on the reader only.
    shardedSubscribers: sharded,
    redisOptions: { ...perNode, connectionName, commandTimeout },
  }
}

/**
 * ioredis's own per-command timeout, on top of the relay's deadlines: it is what bounds the
 * ready check (INFO) of a reconnect through a connection nobody answers, so such a reconnect
 * fails and is retried instead of waiting forever. The reader's XREAD BLOCK must fit in it.
 */
function commandTimeouts(tuning: Partial<RedisRelayTuning> | undefined): { command: number; reader: number } {
  const command = tuning?.commandTimeoutMs ?? DEFAULT_RELAY_TUNING.commandTimeoutMs
  const blockMs = tuning?.blockMs ?? DEFAULT_RELAY_TUNING.blockMs
  return {
    command: command + IOREDIS_TIMEOUT_MARGIN_MS,
    reader: command + blockMs + READER_TIMEOUT_MARGIN_MS,
  }
}

/** The relay's own deadline fires first (it knows the operation); ioredis's is the backstop. */
const IOREDIS_TIMEOUT_MARGIN_MS = 1000

/** The reader resets itself 4 s past BLOCK (stream-reader.ts); ioredis must not fire first. */
const READER_TIMEOUT_MARGIN_MS = 5000

export function createRelayFromConfig(
  config: Config,
  deps: { logger: Logger; metrics: Metrics; workers: WorkerPool; tuning?: Partial<RedisRelayTuning> },
): Relay {
  const timeouts = commandTimeouts(deps.tuning)
  const common = {
    instanceId: config.instanceId,
    prefix: config.redisPrefix,
    logger: deps.logger,
    metrics: deps.metrics,
    pool: deps.workers,
    ...(deps.tuning ? { tuning: deps.tuning } : {}),
  }
  if (config.redisClusterNodes) {
    const seeds = config.redisClusterNodes.map((node) => ({ ...node }))
    const target = `REDIS_CLUSTER_NODES (${seeds.map((seed) => `${seed.host}:${seed.port}`).join(',')})`
    const command = new (ioredis().Cluster)(
      seeds,
      clusterOptions(`yws-${config.instanceId}`, false, timeouts.command),
    )
    const reader = new (ioredis().Cluster)(
      seeds,
      clusterOptions(`yws-${config.instanceId}-reader`, true, timeouts.reader),
    )
    return new RedisStreamRelay({
      ...common,
      target,
      connections: { command, reader },
      topology: redisClusterTopology(reader),
    })
  }
  if (!config.redisUrl) return new NullRelay()
  const url = config.redisUrl
  const command = new (ioredis().Redis)(url, {
    ...CONNECTION_OPTIONS,
    connectionName: `yws-${config.instanceId}`,
    commandTimeout: timeouts.command,
  })
  const reader = new (ioredis().Redis)(url, {
    ...CONNECTION_OPTIONS,
    connectionName: `yws-${config.instanceId}-reader`,
    commandTimeout: timeouts.reader,
  })
  return new RedisStreamRelay({
    ...common,
    target: `REDIS_URL (${redactUrl(url)})`,
    connections: { command, reader },
    topology: singleRedisTopology(reader, command),
  })
}
