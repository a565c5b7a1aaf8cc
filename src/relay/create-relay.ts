/** Picks the relay for a config: none standalone; Redis Streams when REDIS_URL is set. */
import { Redis, type RedisOptions } from 'ioredis'
import type { Config } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { type RedisRelayTuning, RedisStreamRelay } from './redis-stream-relay.js'
import type { Relay } from './relay.js'

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

export function createRelayFromConfig(
  config: Config,
  deps: { logger: Logger; metrics: Metrics; tuning?: Partial<RedisRelayTuning> },
): Relay | undefined {
  if (!config.redisUrl && !config.redisClusterNodes) return undefined
  if (!config.redisUrl) {
    // See docs/cluster.md: multi-stream XREAD cannot span Cluster slots; not implemented yet.
    throw new Error('REDIS_CLUSTER_NODES (Redis Cluster) is not supported by this build yet; use REDIS_URL')
  }
  const url = config.redisUrl
  return new RedisStreamRelay({
    instanceId: config.instanceId,
    prefix: config.redisPrefix,
    logger: deps.logger,
    metrics: deps.metrics,
    connections: {
      command: new Redis(url, { ...CONNECTION_OPTIONS, connectionName: `yws-${config.instanceId}` }),
      reader: new Redis(url, { ...CONNECTION_OPTIONS, connectionName: `yws-${config.instanceId}-reader` }),
    },
    ...(deps.tuning ? { tuning: deps.tuning } : {}),
  })
}
