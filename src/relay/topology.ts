/**
 * The two Redis topologies the relay runs on, each a matched pair of read and write
 * strategies (they are chosen together because a Cluster's reader relies on its writer's
 * doorbells):
 *
 *   one Redis      StreamReader (one blocking multi-stream XREAD) + PipelineAppender
 *   Redis Cluster  ClusterStreamReader (sharded pub/sub doorbells + non-blocking XREADs,
 *                  a swept fallback) + ClusterAppender (XADD, then ring the doorbell)
 */
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../observability/logger.js'
import { ClusterStreamReader } from './cluster-stream-reader.js'
import type { RedisClient } from './redis-client.js'
import type { FollowerHooks, StreamFollower } from './stream-follower.js'
import { StreamReader } from './stream-reader.js'
import {
  type AppenderContext,
  type AppendStrategy,
  ClusterAppender,
  PipelineAppender,
} from './stream-writer.js'
import type { RedisRelayTuning } from './tuning.js'

export interface RedisConnections {
  /** Commands: XADD pipelines, MULTI reads, scripts, CLIENT UNBLOCK. One Redis or a Cluster. */
  readonly command: RedisClient
  /** Used only by the stream follower (its status counts for `connected`). */
  readonly reader: RedisClient
}

/** What the relay hands the follower factory: its hooks and the settings a follower needs. */
export interface FollowerContext {
  readonly hooks: FollowerHooks
  readonly tuning: RedisRelayTuning
  readonly logger: Logger
  /** The relay's nonce: bells it rang itself are skipped. */
  readonly nonce: string
}

export interface RedisTopology {
  createFollower(context: FollowerContext): StreamFollower
  createAppender(context: AppenderContext): AppendStrategy
}

/** One Redis: `reader` blocks in XREAD; `command` wakes it (CLIENT UNBLOCK) and appends. */
export function singleRedisTopology(reader: Redis, command: Redis): RedisTopology {
  return {
    createFollower: ({ hooks, tuning, logger }) =>
      new StreamReader(reader, command, {
        ...hooks,
        blockMs: tuning.blockMs,
        count: tuning.readCount,
        stallMs: tuning.trimMarginMs / 2,
        logger,
      }),
    createAppender: (context) => new PipelineAppender(context),
  }
}

/** A Redis Cluster: `reader` holds the sharded subscriptions and does the reads. */
export function redisClusterTopology(reader: Cluster): RedisTopology {
  return {
    createFollower: ({ hooks, tuning, logger, nonce }) =>
      new ClusterStreamReader(reader, {
        ...hooks,
        nonce,
        count: tuning.readCount,
        sweepMs: tuning.sweepMs,
        stallMs: tuning.trimMarginMs / 2,
        logger,
      }),
    createAppender: (context) => new ClusterAppender(context),
  }
}
