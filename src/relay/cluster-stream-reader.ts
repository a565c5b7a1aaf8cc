/**
 * The stream follower for a Redis Cluster. A multi-key XREAD must keep all its keys in one
 * slot (CROSSSLOT otherwise), and docs hash to different slots, so the single-Redis design
 * (one blocking XREAD over every stream) cannot work here. Instead:
 *
 *   writer: XADD to the doc's stream, then SPUBLISH <doc's notify channel> <relay's nonce>
 *           (same slot: the node that took the entry rings the bell)
 *   reader: SSUBSCRIBE to each followed stream's notify channel (ioredis routes sharded
 *           subscriptions to the slot's owner: one subscriber connection per master), and on
 *           a bell: a non-blocking XREAD of that stream from its last id. Bells that arrive
 *           in the same tick are coalesced; the XREADs of one tick are auto-pipelined per node.
 *   sweep:  one instance-wide timer (not one per doc) reads every followed stream every
 *           `sweepMs`, because pub/sub is at-most-once (a bell is lost when a subscriber
 *           reconnects, a slot migrates, a node fails over). A lost bell delays an entry by at
 *           most `sweepMs`; it never loses one: the stream stays the source of truth and the
 *           relay's gap rules are unchanged.
 *
 * Follow = subscribe, then read (a bell rung between the caller's catch-up read and the
 * subscription would be lost; the read after the subscription finds its entry). At most one
 * XREAD per stream is in flight, so entries are delivered once and in order.
 */

import type { Cluster } from 'ioredis'
import type { Logger } from '../observability/logger.js'
import type { RawEntry } from './redis-doc-state.js'
import { notifyChannel } from './redis-keys.js'
import { StallWatch } from './stall-watch.js'
import type { EntryHandler, FollowerHooks, StreamFollower } from './stream-follower.js'

interface Follow {
  lastId: string
  readonly channel: string
  readonly handler: EntryHandler
}

export interface ClusterStreamReaderOptions extends FollowerHooks {
  /**
   * Bells rung by this relay (its nonce, instance-identity.ts) are skipped: its own entries are
   * applied already. Bells of older versions carry their INSTANCE_ID: never equal, so read.
   */
  readonly nonce: string
  readonly count: number
  /** Every followed stream is read at least this often, bell or no bell. */
  readonly sweepMs: number
  /** onStall is called when the sweep timer fires this late (an event-loop stall). */
  readonly stallMs: number
  readonly logger: Logger
}

export class ClusterStreamReader implements StreamFollower {
  /** A follow object is replaced on every follow(), so a reply for an older one is dropped. */
  private readonly follows = new Map<string, Follow>()
  private readonly keyByChannel = new Map<string, string>()
  private readonly due = new Set<string>()
  private readonly reading = new Set<string>()
  private readonly readAgain = new Set<string>()
  private readScheduled = false
  private sweepTimer: NodeJS.Timeout | undefined
  private stalls: StallWatch | undefined
  private needsRecovery = false
  private recovering = false
  private closed = false

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ClusterStreamReaderOptions,
  ) {}

  start(): void {
    if (this.sweepTimer || this.closed) return
    this.cluster.on('smessage', this.onBell)
    this.cluster.on('close', this.onConnectionLost)
    this.stalls = new StallWatch(this.options.stallMs, performance.now())
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepMs)
  }

  follow(key: string, afterId: string, handler: EntryHandler): void {
    const existing = this.follows.get(key)
    const follow: Follow = { lastId: afterId, channel: existing?.channel ?? notifyChannel(key), handler }
    this.follows.set(key, follow)
    if (existing) {
      this.markDue(key)
      return
    }
    this.keyByChannel.set(follow.channel, key)
    this.cluster
      .ssubscribe(follow.channel)
      .catch((error: unknown) => {
        // Reading still works without bells: the sweep picks this stream up every sweepMs.
        this.options.logger.warn({ err: error, channel: follow.channel }, 'SSUBSCRIBE failed')
      })
      .finally(() => this.markDue(key))
  }

  unfollow(key: string): void {
    const follow = this.follows.get(key)
    if (!follow) return
    this.follows.delete(key)
    this.keyByChannel.delete(follow.channel)
    this.due.delete(key)
    if (this.closed) return
    this.cluster.sunsubscribe(follow.channel).catch((error: unknown) => {
      // A stale subscription only rings bells nobody follows (ignored in onBell).
      this.options.logger.debug({ err: error, channel: follow.channel }, 'SUNSUBSCRIBE failed')
    })
  }

  isFollowing(key: string): boolean {
    return this.follows.has(key)
  }

  position(key: string): string | undefined {
    return this.follows.get(key)?.lastId
  }

  private readonly onBell = (channel: string, message: string): void => {
    if (message === this.options.nonce) return
    const key = this.keyByChannel.get(channel)
    if (key) this.markDue(key)
  }

  private readonly onConnectionLost = (): void => {
    this.needsRecovery = true
  }

  private markDue(key: string): void {
    if (this.closed || !this.follows.has(key)) return
    this.due.add(key)
    if (this.readScheduled) return
    this.readScheduled = true
    // Every bell of this tick (and the sweep) becomes one round of reads.
    setImmediate(() => {
      this.readScheduled = false
      for (const due of this.due) {
        this.due.delete(due)
        if (this.reading.has(due)) this.readAgain.add(due)
        else void this.read(due)
      }
    })
  }

  private async read(key: string): Promise<void> {
    const follow = this.follows.get(key)
    if (!follow) return
    this.reading.add(key)
    try {
      const reply = (await this.cluster.xreadBuffer(
        'COUNT',
        this.options.count,
        'STREAMS',
        key,
        follow.lastId,
      )) as [Buffer, RawEntry[]][] | null
      const entries = reply?.[0]?.[1] ?? []
      // Unfollowed or repositioned while we read: this reply is stale for it.
      if (this.follows.get(key) !== follow || entries.length === 0) return
      follow.lastId = entries.at(-1)![0].toString()
      // A full reply: more entries may be waiting.
      if (entries.length >= this.options.count) this.readAgain.add(key)
      try {
        follow.handler(entries)
      } catch (error) {
        this.options.logger.error({ stream: key, err: error }, 'stream handler failed')
      }
    } catch (error) {
      if (this.closed) return
      this.options.onError(error)
      // A node failed or moved: the owner checks every room for gaps before we trust positions.
      this.needsRecovery = true
    } finally {
      this.reading.delete(key)
      if (this.readAgain.delete(key)) this.markDue(key)
    }
  }

  private sweep(): void {
    const stall = this.stalls?.turn(performance.now())
    if (stall) this.options.onStall(stall)
    if (this.needsRecovery) {
      void this.recover()
      return
    }
    for (const key of this.follows.keys()) this.markDue(key)
  }

  /** Lets the owner check its rooms for gaps, then reads everything again. */
  private async recover(): Promise<void> {
    if (this.recovering || this.cluster.status !== 'ready') return
    this.recovering = true
    try {
      await this.options.onReconnected()
      this.needsRecovery = false
      for (const key of this.follows.keys()) this.markDue(key)
    } catch (error) {
      // Still unreachable: the next sweep tries again.
      this.options.onError(error)
    } finally {
      this.recovering = false
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.cluster.off('smessage', this.onBell)
    this.cluster.off('close', this.onConnectionLost)
    this.due.clear()
    this.cluster.disconnect()
  }
}
