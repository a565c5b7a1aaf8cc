/**
 * One room's membership in the Redis relay, as a state machine: it brings the room level
 * with the doc's Redis state, follows the doc's stream, publishes the room's changes, and
 * resyncs whenever the room may have missed something or Redis may lack something.
 *
 *               ok                  gap, bad entry, publish failed, data lost
 *   joining ──────────► live ────────────────────────────────────────────► resyncing
 *      │                  ▲                          ok                      │    │
 *      │                  └──────────────────────────────────────────────────┘    │
 *      │ Redis down at join, or the join failed                          failed   │
 *      └──────────────────────────────► stale ◄─────────────────────────────────────┘
 *                                   ▲     │   reconnect, or a retry 500 ms later
 *   a publish dropped while Redis ──┘     └──────────────────────────────► resyncing
 *   was away (from any state)
 *   any state ── leave() ──► left (terminal: nothing is followed or published)
 *
 *   stale      the room and Redis may differ (a publish was dropped while Redis was away,
 *              or a sync failed); the next resync pushes the state-vector diff both ways.
 *              Going stale while Redis is away, and leaving in any state but live, mark
 *              the doc owed on disk (`context.owe`): only open rooms resync, so a room that
 *              unloads (or a process that stops) before Redis returns would otherwise leave
 *              the change on this disk alone (data-loss-watch.ts publishes marked docs)
 *   resyncing  one sync at a time; a resync asked for meanwhile runs right after (`again`)
 *
 * A sync: snapshot + every stream entry in one MULTI (a concurrent trim cannot fall between
 * them), merged, the room handed only what it lacks; then the stream is followed from the
 * last id read, and what the room holds that Redis lacks is published. A gap is noticed by
 * comparing the last trim (MINID) with the position the room stood at before a reply (the
 * follower's own position has already moved past the reply when the room sees it).
 */
import * as Y from 'yjs'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { validateUpdate } from '../protocol/messages.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import type { CommandGuard } from './command-guard.js'
import type { InstanceIdentity } from './instance-identity.js'
import { applyLiveEntries, type LiveEntryTarget } from './live-entries.js'
import type { RedisClient } from './redis-client.js'
import { CompactionTrigger, compactDoc } from './redis-compactor.js'
import { entryUpdates, gapReason, probeDoc, type RawEntry, readDocState } from './redis-doc-state.js'
import type { DocKeys } from './redis-keys.js'
import type { RelaySink, RoomRelay } from './relay.js'
import { type EntryKind, idTimeMs, ZERO_ID } from './stream-entry.js'
import type { StreamFollower } from './stream-follower.js'
import type { AppendOwner, StreamWriter } from './stream-writer.js'
import type { RedisRelayTuning } from './tuning.js'
import { updateAddsTo } from './update-coverage.js'

export type RoomSyncState = 'joining' | 'live' | 'resyncing' | 'stale' | 'left'

/** What a room's sync uses of its relay. */
export interface RoomSyncContext {
  readonly identity: InstanceIdentity
  readonly tuning: RedisRelayTuning
  readonly logger: Logger
  readonly metrics: Metrics
  readonly command: RedisClient
  readonly guard: CommandGuard
  readonly follower: StreamFollower
  readonly writer: StreamWriter
  /** The process's worker pool (merging Redis state, compaction). */
  readonly pool: WorkerPool
  /** Redis reachable and the relay open. */
  connected(): boolean
  /** The relay is closing: nothing new starts. */
  closed(): boolean
  redisError(op: string, error: unknown): void
  /** A resync found the doc deleted since this room joined (its generation grew). */
  docDeleted(docName: string, generation: number): void
  /** Redis may lack changes of this doc, and this room may not be there to resync: mark it. */
  owe(docName: string): void
  /**
   * An update XADD of this doc was handed to the writer (`+1`) or settled, landed or not
   * (`-1`): the relay counts them per doc for its beforeStore (an update stored while its
   * XADD is unanswered is marked owed first).
   */
  unconfirmed(docName: string, delta: 1 | -1): void
  /** The room left: the relay forgets it. */
  left(room: RoomSync): void
}

const EMPTY = new Uint8Array(0)
const EMPTY_UPDATE = new Uint8Array([0, 0])

export class RoomSync implements RoomRelay, AppendOwner {
  private stateNow: RoomSyncState = 'joining'
  /** A resync was asked for while one ran. */
  private again = false
  private syncing: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private epoch: string | undefined
  /** The doc's deletion generation when the room first synced. */
  private generation: number | undefined
  /**
   * The last stream id this room has applied (the sync's tail, then each reply's last entry).
   * The follower's own position moves before the room's handler runs, so a gap check must use
   * this one: it is where the room stood before the reply that may have jumped a trim.
   */
  private position = ZERO_ID
  private readonly compaction: CompactionTrigger
  private readonly liveTarget: LiveEntryTarget

  constructor(
    private readonly context: RoomSyncContext,
    readonly sink: RelaySink,
    readonly keys: DocKeys,
    /** The deletion generation of the copy the room loaded from the store (Relay.join). */
    private readonly loadedGeneration?: number,
  ) {
    this.compaction = new CompactionTrigger(context.tuning.compactEntries, () => this.compact())
    this.liveTarget = {
      ...{ sink, identity: context.identity, metrics: context.metrics },
      answer: (awareness) => this.enqueue('a', awareness),
      bad: (id, reason) => this.badEntry(id, reason, true),
      generation: () => this.generation,
      deletedSince: () => this.resync('deleted-elsewhere'),
    }
  }

  get state(): RoomSyncState {
    return this.stateNow
  }

  /** A method, not a narrowed field read: the state can change across every await. */
  private hasLeft(): boolean {
    return this.stateNow === 'left'
  }

  get docName(): string {
    return this.sink.docName
  }

  /** The first sync; resolves once the room caught up (or is stale, to resync later). */
  async join(): Promise<void> {
    if (!this.context.connected()) {
      this.markStale()
      this.context.logger.warn(
        { doc: this.docName },
        'Redis unavailable at join: serving local state, will resync',
      )
      return
    }
    try {
      await this.sync('join')
    } catch (error) {
      this.context.redisError('join', error)
      this.resync('join-failed')
    }
    // Peers re-send their clients' awareness so the new room shows every cursor at once.
    this.enqueue('q', EMPTY)
  }

  // RoomRelay

  publishUpdate(update: Uint8Array): void {
    this.enqueue('u', update)
  }

  publishAwareness(update: Uint8Array): void {
    this.enqueue('a', update)
  }

  leave(): Promise<void> {
    this.stop()
    return Promise.resolve()
  }

  /** Stops following and publishing (the room left, or another sync of the doc replaced it). */
  stop(): void {
    if (this.hasLeft()) return
    // Joining, resyncing or stale: what this room holds may not all be in Redis yet.
    if (this.stateNow !== 'live') this.context.owe(this.docName)
    this.stateNow = 'left'
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.context.left(this)
  }

  // Publishing

  private enqueue(kind: EntryKind, data: Uint8Array): void {
    if (this.context.closed() || this.hasLeft()) return
    if (!this.context.connected()) {
      // Awareness is ephemeral; a missed update is found by the resync on reconnect.
      if (kind === 'u') this.markStale()
      return
    }
    if (kind === 'u') this.context.unconfirmed(this.docName, 1)
    // Tagged with the generation this room joined under (before its first sync: the loaded
    // copy's), so that an entry landing after a delete of the doc (a late relay entry) is
    // skipped by rooms opened since.
    this.context.writer.enqueue({
      key: this.keys.stream,
      kind,
      data,
      owner: this,
      generation: this.generation ?? this.loadedGeneration,
    })
  }

  appended(kind: EntryKind, error: Error | undefined): void {
    if (kind === 'u') {
      // Marked before the count drops: the relay then keeps the doc's mark (owed, not only
      // unconfirmed), since the XADD may not have landed.
      if (error) this.context.owe(this.docName)
      this.context.unconfirmed(this.docName, -1)
    }
    if (!error) {
      this.compaction.add()
      this.maybeCompact()
    } else if (kind === 'u') {
      // The XADD may or may not have landed; a resync pushes the diff either way (idempotent).
      // The doc is marked owed above: the resync may not finish (the process may stop, the
      // room may leave), and a room that left cannot resync at all.
      if (!this.hasLeft()) this.resync('publish-failed')
    }
  }

  /** Redis may lack something: also mid-sync (that sync then ends stale, not live). */
  private markStale(): void {
    if (this.stateNow === 'left') return
    this.stateNow = 'stale'
    this.context.owe(this.docName)
  }

  // Syncing

  /** Single-flight resync with retry while Redis is up (a failed one leaves the room stale). */
  resync(reason: string): void {
    if (this.hasLeft() || this.context.closed()) return
    if (this.syncing) {
      this.again = true
      return
    }
    if (reason !== 'join-failed') {
      this.context.metrics.relayResyncs.inc({ reason })
      this.context.logger.info({ doc: this.docName, reason }, 'resyncing room from Redis')
    }
    this.stateNow = 'stale'
    // The relay's recovery picks stale rooms up on reconnect, if this room is still open then.
    if (!this.context.connected()) {
      this.markStale()
      return
    }
    this.syncing = this.sync(reason)
      .catch((error: unknown) => {
        if (this.hasLeft()) return
        this.markStale()
        this.context.redisError('resync', error)
        if (this.context.connected() && !this.context.closed()) {
          this.retryTimer = setTimeout(() => this.resync('retry'), 500)
        }
      })
      .finally(() => {
        this.syncing = undefined
        if (this.again) {
          this.again = false
          this.resync('again')
        }
      })
  }

  private async sync(reason: string): Promise<void> {
    const { context } = this
    if (this.stateNow !== 'joining') this.stateNow = 'resyncing'
    const state = await context.guard.run('read-doc', () => readDocState(context.command, this.keys))
    if (this.hasLeft()) return
    if (state.generation === undefined) {
      // Not a number we wrote. Our deletes INCR that key, which Redis refuses on such a value,
      // so none can have happened since it was damaged: sync on, without the deletion check.
      context.logger.error(
        { doc: this.docName, key: this.keys.generation },
        'malformed deletion generation in Redis; deletion check skipped',
      )
    } else if (this.generation === undefined) {
      if (this.loadedGeneration !== undefined && state.generation > this.loadedGeneration) {
        // Deleted between the load and this join (the load's deletion gate ran before the
        // delete): the room holds the deleted copy, and publishing it would bring it back.
        context.logger.warn({ doc: this.docName, generation: state.generation }, 'join found the doc deleted')
        context.docDeleted(this.docName, state.generation)
        return
      }
      this.generation = state.generation
    } else if (state.generation > this.generation) {
      // Deleted since this room joined and we missed the control message: publishing our
      // state now would bring the doc back. Hand it to the deletion path instead.
      context.logger.warn({ doc: this.docName, generation: state.generation }, 'resync found the doc deleted')
      context.docDeleted(this.docName, state.generation)
      return
    } else {
      // Lower only when Redis lost its data (the counter starts again at 0): rooms joined
      // since tag their entries with Redis's value, and this room must not skip them as stale.
      this.generation = state.generation
    }
    // Awareness in the tail is stale history; the 'q' entry asks for the live states.
    const updates = entryUpdates(
      state.entries,
      (id, reason) => this.badEntry(id, reason, false),
      state.generation,
    )
    const snapshotProblem = state.snapshot && validateUpdate(state.snapshot)
    if (snapshotProblem) this.badEntry('snapshot', snapshotProblem, false)
    else if (state.snapshot) updates.unshift(state.snapshot)
    const redisState = updates.length === 0 ? EMPTY_UPDATE : await context.pool.merge(updates)
    if (this.hasLeft()) return
    // Only what the room lacks (plus Redis's pending structs and delete set): the room stores
    // and broadcasts what it is handed, so handing it all of Redis would re-store the doc.
    if (updates.length > 0) this.sink.applyRemoteUpdate(Y.diffUpdate(redisState, this.sink.stateVector()))
    this.epoch = state.epoch
    this.compaction.reset(state.entries.length)
    this.position = state.tailId
    context.follower.follow(this.keys.stream, state.tailId, (entries) => this.onEntries(entries))
    if (this.stateNow === 'resyncing' || this.stateNow === 'joining') this.stateNow = 'live'
    const diff = this.sink.encodeStateAsUpdate(Y.encodeStateVectorFromUpdate(redisState))
    const published = updateAddsTo(redisState, diff)
    if (published) this.enqueue('u', diff)
    context.logger.debug(
      { doc: this.docName, reason, entries: state.entries.length, tailId: state.tailId, published },
      'room synced with Redis',
    )
    this.maybeCompact()
  }

  // Reading

  private onEntries(entries: readonly RawEntry[]): void {
    if (this.hasLeft()) return
    const { context } = this
    const now = Date.now()
    const before = this.position
    this.position = entries.at(-1)?.[0].toString() ?? before
    this.compaction.add(entries.length)
    const bad = applyLiveEntries(entries, this.liveTarget, now)
    // XREAD skips trimmed ids silently: a reply may start past entries this room never read.
    // Only entries older than the trim margin are trimmed, and any it skipped are newer than
    // `before`, so a gap is possible only when `before` is that old (half: clock skew between
    // Redis and us). The first entry's age is no guide: after a trim it can be brand new.
    if (now - idTimeMs(before) > context.tuning.trimMarginMs / 2) {
      void this.checkGap(before).catch((error: unknown) => context.redisError('gap-check', error))
    }
    if (bad) this.resync('bad-entry')
    this.maybeCompact()
  }

  /** Logs and counts an entry that could not be used; returns true (for `bad = ...`). */
  private badEntry(id: string, reason: string, live: boolean): true {
    this.context.metrics.relayErrors.inc({ op: 'bad-entry' })
    this.context.logger.warn(
      { doc: this.docName, id, reason, live },
      'skipped a relay entry that failed to decode or apply',
    )
    return true
  }

  /** Resyncs the room if entries after `position` (default: the follower's) may be gone. */
  async checkGap(position = this.context.follower.position(this.keys.stream)): Promise<void> {
    if (this.hasLeft()) return
    if (this.stateNow === 'stale' || position === undefined) {
      return this.resync(this.stateNow === 'stale' ? 'dirty' : 'unsynced')
    }
    const { context } = this
    const probe = await context.guard.run('probe', () => probeDoc(context.command, this.keys))
    const reason = gapReason(probe, this.epoch, position)
    if (reason) this.resync(reason)
  }

  private maybeCompact(): void {
    this.compaction.maybe(!this.hasLeft() && this.context.connected())
  }

  private compact(): Promise<void> {
    const { context } = this
    const options = { owner: context.identity.nonce, pool: context.pool, logger: context.logger }
    const { lockMs, trimMarginMs } = context.tuning
    return context.guard
      .run('compact', () => compactDoc(context.command, this.keys, { ...options, lockMs, trimMarginMs }))
      .then((outcome) => context.logger.debug({ doc: this.docName, outcome }, 'stream compaction'))
      .catch((error: unknown) => context.redisError('compact', error))
  }
}
