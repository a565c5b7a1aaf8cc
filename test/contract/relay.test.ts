/**
 * The Relay contract (src/testing/relay-contract.ts, exported as `yjs-cluster-server/testing`)
 * run against both relays we ship: RedisStreamRelay on the shared Redis (a unique key prefix
 * per test; each instance reaches Redis through its own TCP proxy, so one instance can be cut
 * off: black-holed, then its connections reset) and MemoryRelay.
 */
import { describe, expect, it } from 'vitest'
import { configFor } from '../../src/config/config.js'
import { createLogger } from '../../src/observability/logger.js'
import { Metrics } from '../../src/observability/metrics.js'
import { createRelayFromConfig } from '../../src/relay/create-relay.js'
import { MemoryRelay, MemoryRelayHub } from '../../src/relay/memory-relay.js'
import type { Relay } from '../../src/relay/relay.js'
import { relayContract } from '../../src/testing/index.js'
import { WorkerPool } from '../../src/workers/worker-pool.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

relayContract(
  'RedisStreamRelay',
  () => {
    const prefix = uniquePrefix()
    const workers = new WorkerPool(1)
    const proxies = new Map<Relay, TcpProxy>()
    return {
      async create(instanceId) {
        const proxy = await startTcpProxy(Number(new URL(SHARED_REDIS_URL).port || 6379))
        const config = configFor({ redisUrl: proxy.url, redisPrefix: prefix, instanceId })
        const relay = createRelayFromConfig(config, {
          logger: createLogger('silent', instanceId),
          metrics: new Metrics(instanceId),
          workers,
          // A cut-off instance notices within a second instead of five.
          tuning: { commandTimeoutMs: 1000 },
        })
        proxies.set(relay, proxy)
        return relay
      },
      async partition(relay) {
        const proxy = proxies.get(relay)!
        // Reconnects are accepted and then starved: the instance stays cut off until healed.
        proxy.blackHole()
        proxy.reset()
        return async () => proxy.heal()
      },
      close: () => workers.close(),
    }
  },
  { describe, it, expect },
)

relayContract(
  'MemoryRelay',
  () => {
    const hub = new MemoryRelayHub()
    return {
      create: async (instanceId) => new MemoryRelay(hub, instanceId),
      partition: async (relay) => (relay as MemoryRelay).partition(),
    }
  },
  { describe, it, expect },
)
