/** Picks the relay for a config: none standalone; Redis Streams when REDIS_URL/REDIS_CLUSTER_NODES is set. */
import type { Config } from '../config/config.js'
import type { Relay } from './relay.js'

export function createRelayFromConfig(config: Config): Relay | undefined {
  if (!config.redisUrl && !config.redisClusterNodes) return undefined
  throw new Error('cluster mode (REDIS_URL) is not available yet in this build')
}
