/**
 * What the relay needs from "whatever reads the streams": follow a stream from a position
 * and get its new entries. Two strategies implement it: `StreamReader` (one blocking
 * multi-stream XREAD, for one Redis) and `ClusterStreamReader` (sharded pub/sub doorbells +
 * non-blocking XREADs, for a Redis Cluster, where one XREAD cannot span slots).
 */
import type { RawEntry } from './redis-doc-state.js'

export type EntryHandler = (entries: readonly RawEntry[]) => void

export interface StreamFollower {
  start(): void
  /** Follows `key` from `afterId` (exclusive), replacing any earlier position. */
  follow(key: string, afterId: string, handler: EntryHandler): void
  unfollow(key: string): void
  isFollowing(key: string): boolean
  /** The last id delivered for `key` (undefined: not followed). */
  position(key: string): string | undefined
  close(): Promise<void>
}

/** How a follower reports to its owner (the relay). */
export interface FollowerHooks {
  /** The follower lost Redis and is back: the owner checks its rooms for gaps first. */
  readonly onReconnected: () => Promise<void>
  /**
   * Reading fell so far behind (an event-loop stall) that trims may have outrun it: called for
   * every late turn, `began` for the first of a stall (stall-watch.ts), `continues` after.
   */
  readonly onStall: (turn: 'began' | 'continues') => void
  readonly onError: (error: unknown) => void
}
