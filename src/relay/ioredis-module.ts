/**
 * ioredis, loaded when a Redis connection is first built rather than at start-up: a
 * standalone server (no REDIS_URL, no REDIS_CLUSTER_NODES, no webhook windows in Redis)
 * never needs it, and loading it costs every process ~1.1 MB of retained heap and 3-4 MB
 * of RSS at idle (issue 16, memory; measured on the compiled server, see
 * docs/architecture.md "Memory"). ioredis is CommonJS, so a synchronous require keeps the
 * builders synchronous. Types come from `import type`, which loads nothing.
 */
import { createRequire } from 'node:module'
import type * as IORedis from 'ioredis'

let loaded: typeof IORedis | undefined

/** The ioredis module (`Redis`, `Cluster`, …), required on first call. */
export function ioredis(): typeof IORedis {
  loaded ??= createRequire(import.meta.url)('ioredis') as typeof IORedis
  return loaded
}
