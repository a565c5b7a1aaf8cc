/**
 * RedisStreamRelay: turns instances sharing a Redis into one service. Each doc has one
 * stream (see redis-keys.ts); every instance appends the updates and awareness its clients
 * make, tagged with its id, and applies everyone else's to its room.
 *
 * Per room:   join -> sync (read snapshot + stream in one MULTI, apply, follow the stream from
 *             the last id read, publish what Redis lacks) -> live -> leave (unfollow)
 * Resync (same as the join sync) happens when the room may have missed something: a gap
 * (stream trimmed past our position, stream vanished, new epoch = Redis lost its data), a bad
 * entry, a failed publish, or a Redis outage. A room whose publish could not reach Redis is
 * `dirty` until a resync has pushed its state-vector diff. docs/cluster.md argues why this
 * loses nothing. Works on one Redis or a Redis Cluster (every key of a doc is in one slot);
 * the reading strategy is a StreamFollower chosen by create-relay.ts.
 */
import * as Y from 'yjs'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { decodeAwareness, validateUpdate } from '../protocol/messages.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import { CommandGuard } from './command-guard.js'
import { withDeadline } from './deadline.js'
import { type RedisClient, serverRunIds, someServerRestarted } from './redis-client.js'
import { compactDoc } from './redis-compactor.js'
import { deleteDocState, peekDocUpdates, readGeneration, removeInstanceUpdates } from './redis-doc-admin.js'
import { probeDoc, type RawEntry, readDocState } from './redis-doc-state.js'
import { controlKey, type DocKeys, docKeys, notifyChannel } from './redis-keys.js'
import type { ControlMessage, Relay, RelaySink, RoomRelay } from './relay.js'
import { generationKey, observeGeneration, republishStoredDocs, type StoredDocs } from './republisher.js'
import {
  compareIds,
  decodeEntry,
  type EntryKind,
  encodeEntryFields,
  idTimeMs,
  nextId,
  ZERO_ID,
} from './stream-entry.js'
import type { FollowerHooks, StreamFollower } from './stream-follower.js'
import { updateAddsTo } from './update-coverage.js'

export interface RedisRelayTuning {
  /** Compact a doc's stream into its snapshot once this many entries were seen. */
  readonly compactEntries: number
  /** Entries younger than this are never trimmed (live readers are never outrun). */
  readonly trimMarginMs: number
  readonly blockMs: number
  readonly readCount: number
  /** Redis Cluster: every followed stream is read at least this often (lost doorbells). */
  readonly sweepMs: number
  readonly lockMs: number
  /** Control stream length cap (approximate). */
  readonly controlMaxLen: number
  /**
   * Deadline of every call on the command connection. Past it the call counts as failed (its
   * rooms resync) and the connection is replaced: a dropped or black-holed command must not
   * stop publishing (issue 10.3).
   */
  readonly commandTimeoutMs: number
  /** How often the Redis data generation is checked (a FLUSHALL closes no connection). */
  readonly generationCheckMs: number
  /** Stored docs per batch when re-publishing after Redis lost its data. */
  readonly republishBatch: number
}

export const DEFAULT_RELAY_TUNING: RedisRelayTuning = {
  compactEntries: 500,
  trimMarginMs: 60_000,
  blockMs: 1000,
  readCount: 1000,
  sweepMs: 2000,
  lockMs: 10_000,
  controlMaxLen: 1000,
  commandTimeoutMs: 5000,
  generationCheckMs: 5000,
  republishBatch: 100,
}

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
  readonly instanceId: string
}

/** Builds the reading strategy (create-relay.ts picks it: one Redis or a Cluster). */
export type FollowerFactory = (context: FollowerContext) => StreamFollower

export interface RedisStreamRelayOptions {
  readonly instanceId: string
  readonly prefix: string
  readonly logger: Logger
  readonly metrics: Metrics
  /** The process's worker pool (app.ts creates it; the relay never closes it). */
  readonly pool: WorkerPool
  readonly connections: RedisConnections
  readonly createFollower: FollowerFactory
  readonly tuning?: Partial<RedisRelayTuning>
  /** The setting and address Redis is reached by, for start-up messages (no password). */
  readonly target?: string
}

const EMPTY = new Uint8Array(0)
const EMPTY_UPDATE = new Uint8Array([0, 0])

class RelayRoom implements RoomRelay {
  /** Redis may lack something this room holds (a publish failed or Redis was away). */
  dirty = false
  left = false
  epoch: string | undefined
  /** The doc's deletion generation when the room first synced. */
  generation: number | undefined
  /**
   * The last stream id this room has applied (the sync's tail, then each reply's last entry).
   * The follower's own position moves before the room's handler runs, so a gap check must use
   * this one: it is where the room stood before the reply that may have jumped a trim.
   */
  position = ZERO_ID
  seenSinceCompaction = 0
  compacting = false
  syncing: Promise<void> | undefined
  syncAgain = false
  retryTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly relay: RedisStreamRelay,
    readonly sink: RelaySink,
    readonly keys: DocKeys,
  ) {}

  publishUpdate(update: Uint8Array): void {
    this.relay.enqueue(this, 'u', update)
  }

  publishAwareness(update: Uint8Array): void {
    this.relay.enqueue(this, 'a', update)
  }

  leave(): Promise<void> {
    this.relay.leaveRoom(this)
    return Promise.resolve()
  }
}

interface Outgoing {
  readonly room: RelayRoom | undefined
  readonly key: string
  readonly kind: EntryKind
  readonly data: Uint8Array
}

export class RedisStreamRelay implements Relay {
  readonly mode = 'cluster'
  private readonly tuning: RedisRelayTuning
  private readonly command: RedisClient
  private readonly guard: CommandGuard
  private readonly reader: StreamFollower
  /** Redis Cluster: no cross-node pipelines, and every append rings the stream's doorbell. */
  private readonly cluster: boolean
  private readonly rooms = new Map<string, RelayRoom>()
  private readonly controlHandlers: ((message: ControlMessage) => void)[] = []
  private readonly deletedHandlers: ((docName: string, generation: number) => void)[] = []
  private readonly controlKey: string
  private readonly logger: Logger
  private outbox: Outgoing[] = []
  private flushScheduled = false
  private flushing: Promise<void> = Promise.resolve()
  private runIds: string[] | undefined
  private recovering: Promise<void> | undefined
  private recoverAgain = false
  private wasConnected = false
  private storedDocs: StoredDocs | undefined
  /** The Redis data generation last seen (undefined: not yet observed). */
  private generation: string | undefined
  /** A re-publication of stored docs is owed (Redis lost data; not completed yet). */
  private republishOwed = false
  private republishing: Promise<void> | undefined
  private generationTimer: NodeJS.Timeout | undefined
  /** The last connection error ioredis reported (its connect() only says "Connection is closed."). */
  private lastConnectionError: unknown
  private closed = false

  constructor(private readonly options: RedisStreamRelayOptions) {
    this.tuning = { ...DEFAULT_RELAY_TUNING, ...options.tuning }
    this.logger = options.logger.child({ component: 'relay' })
    this.command = options.connections.command
    this.guard = new CommandGuard(this.command, {
      timeoutMs: this.tuning.commandTimeoutMs,
      logger: this.logger,
      metrics: options.metrics,
      onHealthChange: this.onConnectionChange,
    })
    this.controlKey = controlKey(options.prefix)
    this.cluster = this.command.isCluster
    this.reader = options.createFollower({
      hooks: {
        onReconnected: () => this.recoverAll('reconnect'),
        onStall: () => {
          this.logger.warn('relay reader stalled; checking every room for gaps')
          this.recoverInBackground('stall')
        },
        onError: (error) => this.redisError('xread', error),
      },
      tuning: this.tuning,
      logger: this.logger,
      instanceId: options.instanceId,
    })
    for (const connection of [options.connections.command, options.connections.reader]) {
      connection.on('ready', this.onConnectionChange)
      connection.on('close', this.onConnectionChange)
      // ioredis emits 'error' on every failed reconnect; the state change is logged once.
      connection.on('error', (error: unknown) => {
        this.lastConnectionError = error
        this.logger.debug({ err: error }, 'redis connection error')
      })
    }
  }

  get connected(): boolean {
    return (
      !this.closed &&
      this.command.status === 'ready' &&
      this.guard.healthy &&
      this.options.connections.reader.status === 'ready'
    )
  }

  async start(): Promise<void> {
    this.options.metrics.relayConnected.set(0)
    const results = await Promise.allSettled([
      this.command.connect(),
      this.options.connections.reader.connect(),
    ])
    for (const result of results) {
      if (result.status === 'rejected') {
        // Local editing never waits for Redis: start anyway (readiness says "degraded"),
        // and the reader catches every room up once Redis answers.
        const cause = this.lastConnectionError ?? result.reason
        const target = this.options.target ?? 'Redis'
        this.logger.warn(
          { err: cause, target },
          `${target} is unreachable at start (${describeError(cause)}); serving locally until it is back`,
        )
      }
    }
    this.onConnectionChange()
    this.reader.start()
    this.generationTimer = setInterval(() => {
      if (!this.connected) return
      this.checkGeneration().catch((error: unknown) => this.redisError('generation', error))
    }, this.tuning.generationCheckMs)
    this.generationTimer.unref()
  }

  attachStoredDocs(docs: StoredDocs): void {
    this.storedDocs = docs
  }

  /**
   * Notices that Redis lost its data (the generation marker vanished or changed: restart
   * without persistence, FLUSHALL, failover to an empty replica, eviction). Then every open
   * room resyncs, and every stored doc not open here is re-published in batches. The first
   * observation after start counts as a loss only if the marker was missing (a new Redis).
   */
  private async checkGeneration(resyncRooms = true): Promise<boolean> {
    const seen = await this.guard.run('generation', () =>
      observeGeneration(this.command, generationKey(this.options.prefix)),
    )
    const lost = this.generation === undefined ? seen.created : seen.value !== this.generation
    this.generation = seen.value
    if (lost) {
      this.logger.warn(
        { rooms: this.rooms.size, created: seen.created },
        'Redis lost its data (generation marker changed); resyncing rooms and re-publishing stored docs',
      )
      if (resyncRooms) for (const room of this.rooms.values()) this.scheduleSync(room, 'redis-data-lost')
      this.republishOwed = true
    }
    if (this.republishOwed) this.republishInBackground()
    return lost
  }

  private republishInBackground(): void {
    const docs = this.storedDocs
    if (!docs || this.republishing || this.closed) return
    this.republishing = republishStoredDocs({
      redis: this.command,
      prefix: this.options.prefix,
      instanceId: this.options.instanceId,
      docs,
      skip: (docName) => this.rooms.has(docName),
      batchSize: this.tuning.republishBatch,
      guard: (work) => this.guard.run('republish', work),
      metrics: this.options.metrics,
      logger: this.logger,
      cancelled: () => this.closed || !this.connected,
    })
      .then((result) => {
        if (result.complete) this.republishOwed = false
        this.options.metrics.relayRepublishSeconds.set(result.seconds)
        this.logger.info(
          { docs: result.docs, bytes: result.bytes, seconds: result.seconds, complete: result.complete },
          'stored docs re-published to Redis',
        )
      })
      .catch((error: unknown) => this.redisError('republish', error))
      .finally(() => {
        this.republishing = undefined
      })
  }

  private readonly onConnectionChange = (): void => {
    const connected = this.connected
    this.options.metrics.relayConnected.set(connected ? 1 : 0)
    if (connected === this.wasConnected || this.closed) return
    this.wasConnected = connected
    if (connected) this.logger.info('Redis connected')
    else this.logger.warn('Redis connection lost; editing continues locally, rooms resync when it is back')
    // The reader recovers itself after its own reconnect; a command-only blip is covered here.
    if (connected) this.recoverInBackground('reconnect')
  }

  // Rooms

  async join(sink: RelaySink): Promise<RoomRelay> {
    const room = new RelayRoom(this, sink, docKeys(this.options.prefix, sink.docName))
    this.rooms.get(sink.docName)?.leave()
    this.rooms.set(sink.docName, room)
    if (!this.connected) {
      room.dirty = true
      this.logger.warn({ doc: sink.docName }, 'Redis unavailable at join: serving local state, will resync')
      return room
    }
    try {
      await this.sync(room, 'join')
    } catch (error) {
      this.redisError('join', error)
      this.scheduleSync(room, 'join-failed')
    }
    // Peers re-send their clients' awareness so the new room shows every cursor at once.
    this.enqueue(room, 'q', EMPTY)
    return room
  }

  leaveRoom(room: RelayRoom): void {
    room.left = true
    if (room.retryTimer) clearTimeout(room.retryTimer)
    if (this.rooms.get(room.sink.docName) === room) {
      this.rooms.delete(room.sink.docName)
      this.reader.unfollow(room.keys.stream)
    }
  }

  /**
   * Brings a room level with Redis: snapshot + every stream entry (one MULTI, so a concurrent
   * trim cannot fall between them), applied; then follows the stream from the last id read;
   * then publishes whatever the room holds that Redis lacks.
   */
  private async sync(room: RelayRoom, reason: string): Promise<void> {
    room.dirty = false
    const state = await this.guard.run('read-doc', () => readDocState(this.command, room.keys))
    if (room.left) return
    room.generation ??= state.generation
    if (state.generation > room.generation) {
      // Deleted since this room joined and we missed the control message: publishing our
      // state now would bring the doc back. Hand it to the deletion path instead.
      this.logger.warn(
        { doc: room.sink.docName, generation: state.generation },
        'resync found the doc deleted',
      )
      for (const handler of this.deletedHandlers) handler(room.sink.docName, state.generation)
      return
    }
    const updates: Uint8Array[] = []
    if (state.snapshot) {
      const problem = validateUpdate(state.snapshot)
      if (problem) this.badEntry(room, 'snapshot', problem, false)
      else updates.push(state.snapshot)
    }
    for (const [id, fields] of state.entries) {
      const decoded = decodeEntry(fields)
      if (!decoded.ok) {
        this.badEntry(room, id.toString(), decoded.reason, false)
        continue
      }
      // Awareness in the tail is stale history; the 'q' entry asks for the live states.
      if (decoded.entry.kind !== 'u') continue
      const problem = validateUpdate(decoded.entry.data)
      if (problem) this.badEntry(room, id.toString(), problem, false)
      else updates.push(decoded.entry.data)
    }
    const redisState = updates.length === 0 ? EMPTY_UPDATE : await this.options.pool.merge(updates)
    if (room.left) return
    // Only what the room lacks (plus Redis's pending structs and delete set): the room stores
    // and broadcasts what it is handed, so handing it all of Redis would re-store the doc.
    if (updates.length > 0) room.sink.applyRemoteUpdate(Y.diffUpdate(redisState, room.sink.stateVector()))
    room.epoch = state.epoch
    room.seenSinceCompaction = state.entries.length
    room.position = state.tailId
    this.reader.follow(room.keys.stream, state.tailId, (entries) => this.onEntries(room, entries))
    const diff = room.sink.encodeStateAsUpdate(Y.encodeStateVectorFromUpdate(redisState))
    const published = updateAddsTo(redisState, diff)
    if (published) this.enqueue(room, 'u', diff)
    this.logger.debug(
      { doc: room.sink.docName, reason, entries: state.entries.length, tailId: state.tailId, published },
      'room synced with Redis',
    )
    this.maybeCompact(room)
  }

  /** Single-flight resync with retry while Redis is up (a failed one leaves the room dirty). */
  private scheduleSync(room: RelayRoom, reason: string): void {
    if (room.left || this.closed) return
    if (room.syncing) {
      room.syncAgain = true
      return
    }
    if (reason !== 'join-failed') {
      this.options.metrics.relayResyncs.inc({ reason })
      this.logger.info({ doc: room.sink.docName, reason }, 'resyncing room from Redis')
    }
    room.dirty = true
    if (!this.connected) return // recoverAll picks dirty rooms up on reconnect
    room.syncing = this.sync(room, reason)
      .catch((error: unknown) => {
        room.dirty = true
        this.redisError('resync', error)
        if (this.connected && !room.left && !this.closed) {
          room.retryTimer = setTimeout(() => this.scheduleSync(room, 'retry'), 500)
        }
      })
      .finally(() => {
        room.syncing = undefined
        if (room.syncAgain) {
          room.syncAgain = false
          this.scheduleSync(room, 'again')
        }
      })
  }

  // Reading

  private onEntries(room: RelayRoom, entries: readonly RawEntry[]): void {
    if (room.left) return
    let bad = false
    const now = Date.now()
    const before = room.position
    room.position = entries.at(-1)?.[0].toString() ?? before
    for (const [idBuffer, fields] of entries) {
      const id = idBuffer.toString()
      room.seenSinceCompaction += 1
      const decoded = decodeEntry(fields)
      if (!decoded.ok) {
        bad = this.badEntry(room, id, decoded.reason, true)
        continue
      }
      const { entry } = decoded
      if (entry.instanceId === this.options.instanceId) continue // our own: already applied
      this.options.metrics.relayReceived.inc({ kind: entry.kind })
      this.options.metrics.relayLag.observe(Math.max(0, now - idTimeMs(id)) / 1000)
      try {
        switch (entry.kind) {
          case 'u': {
            const problem = validateUpdate(entry.data)
            if (problem) bad = this.badEntry(room, id, problem, true)
            else room.sink.applyRemoteUpdate(entry.data)
            break
          }
          case 'a': {
            const decodedAwareness = decodeAwareness(entry.data)
            if (!decodedAwareness.ok) bad = this.badEntry(room, id, decodedAwareness.detail, true)
            else room.sink.applyRemoteAwareness(entry.data)
            break
          }
          case 'q': {
            const local = room.sink.encodeLocalAwareness?.()
            if (local) this.enqueue(room, 'a', local)
            break
          }
          case 'c':
            bad = this.badEntry(room, id, 'control entry in a doc stream', true)
            break
        }
      } catch (error) {
        bad = this.badEntry(room, id, error instanceof Error ? error.message : String(error), true)
      }
    }
    // XREAD skips trimmed ids silently: a reply may start past entries this room never read.
    // Only entries older than the trim margin are trimmed, and any it skipped are newer than
    // `before`, so a gap is possible only when `before` is that old (half: clock skew between
    // Redis and us). The first entry's age is no guide: after a trim it can be brand new.
    if (now - idTimeMs(before) > this.tuning.trimMarginMs / 2) {
      void this.checkGap(room, before).catch((error: unknown) => this.redisError('gap-check', error))
    }
    if (bad) this.scheduleSync(room, 'bad-entry')
    this.maybeCompact(room)
  }

  /** Logs and counts an entry that could not be used; returns true (for `bad = ...`). */
  private badEntry(room: RelayRoom, id: string, reason: string, live: boolean): true {
    this.options.metrics.relayErrors.inc({ op: 'bad-entry' })
    this.logger.warn(
      { doc: room.sink.docName, id, reason, live },
      'skipped a relay entry that failed to decode or apply',
    )
    return true
  }

  /**
   * Resyncs the room if entries after `position` (default: where it stands now) may be gone:
   * the last trim's MINID lies past the next id.
   */
  private async checkGap(room: RelayRoom, position = this.reader.position(room.keys.stream)): Promise<void> {
    if (room.left) return
    if (room.dirty || position === undefined)
      return this.scheduleSync(room, room.dirty ? 'dirty' : 'unsynced')
    const probe = await this.guard.run('probe', () => probeDoc(this.command, room.keys))
    let reason: string | undefined
    if (probe.epoch !== room.epoch) reason = 'redis-data-lost'
    else if (!probe.streamExists && position !== ZERO_ID) reason = 'stream-vanished'
    else if (probe.trimmed !== undefined && compareIds(probe.trimmed, nextId(position)) > 0)
      reason = 'trimmed'
    if (reason) this.scheduleSync(room, reason)
  }

  private recoverInBackground(why: string): void {
    void this.recoverAll(why).catch((error: unknown) => this.redisError('recover', error))
  }

  /**
   * After a reconnect: a room continues from its last id unless it is dirty or has a gap;
   * if Redis itself (or a Cluster master) restarted (a run_id is gone) every room resyncs.
   * Single-flight.
   */
  private recoverAll(why: string): Promise<void> {
    if (this.recovering) {
      this.recoverAgain = true
      return this.recovering
    }
    this.recovering = (async () => {
      const runIds = await this.guard.run('run-ids', () => serverRunIds(this.command))
      const restarted = someServerRestarted(this.runIds, runIds)
      if (this.runIds !== undefined)
        this.logger.info({ why, restarted, rooms: this.rooms.size }, 'relay catching up')
      this.runIds = runIds
      // A restart resyncs every room below (counted as such); the generation check then only
      // adds the re-publication of docs not open here.
      const lost = await this.checkGeneration(!restarted)
      await this.followControl()
      await Promise.all(
        [...this.rooms.values()].map((room) =>
          restarted ? this.scheduleSync(room, 'redis-restarted') : lost ? undefined : this.checkGap(room),
        ),
      )
    })().finally(() => {
      this.recovering = undefined
      if (this.recoverAgain) {
        this.recoverAgain = false
        this.recoverInBackground('again')
      }
    })
    return this.recovering
  }

  // Writing

  enqueue(room: RelayRoom | undefined, kind: EntryKind, data: Uint8Array, key = room?.keys.stream): void {
    if (this.closed || !key) return
    if (!this.connected) {
      // Awareness is ephemeral; a missed update is found by the resync on reconnect.
      if (room && kind === 'u') room.dirty = true
      return
    }
    this.outbox.push({ room, key, kind, data })
    if (!this.flushScheduled) {
      this.flushScheduled = true
      // Everything published in this tick goes out as one pipeline.
      setImmediate(() => {
        this.flushScheduled = false
        // A flush that threw must not leave the chain rejected (later flushes would never run).
        this.flushing = this.flushing
          .then(() => this.flush())
          .catch((error: unknown) => this.redisError('flush', error))
      })
    }
  }

  private async flush(): Promise<void> {
    const batch = this.outbox
    this.outbox = []
    if (batch.length === 0) return
    const results = this.cluster ? await this.appendAndRing(batch) : await this.appendPipelined(batch)
    batch.forEach((item, index) => {
      const error = results[index]?.[0] ?? (results[index] ? null : new Error('no reply'))
      if (!error) {
        this.options.metrics.relayPublished.inc({ kind: item.kind })
        if (item.room) {
          item.room.seenSinceCompaction += 1
          this.maybeCompact(item.room)
        }
        return
      }
      this.redisError('xadd', error)
      // The XADD may or may not have landed; a resync pushes the diff either way (idempotent).
      if (item.room && item.kind === 'u') this.scheduleSync(item.room, 'publish-failed')
    })
  }

  private xaddArgs(item: Outgoing): (string | Buffer | number)[] {
    const fields = encodeEntryFields(this.options.instanceId, item.kind, item.data)
    return item.kind === 'c'
      ? [item.key, 'MAXLEN', '~', this.tuning.controlMaxLen, '*', ...fields]
      : [item.key, '*', ...fields]
  }

  /** One Redis: the whole batch as one pipeline (one round trip). */
  private async appendPipelined(batch: readonly Outgoing[]): Promise<[Error | null, unknown][]> {
    const pipeline = this.command.pipeline()
    for (const item of batch) pipeline.call('XADD', ...this.xaddArgs(item))
    try {
      return (await this.guard.run('xadd', () => pipeline.exec())) ?? []
    } catch (error) {
      return batch.map(() => [error as Error, null])
    }
  }

  /**
   * Redis Cluster: a pipeline cannot span nodes, so each XADD is its own command (the
   * client's auto-pipelining still sends one batch per node). Once a stream's appends have
   * landed, its doorbell rings (SPUBLISH, same slot): a bell never precedes its entry, even
   * when a MOVED/ASK redirect delayed the XADD. A bell that fails is only logged: readers
   * find the entry by their sweep.
   */
  private async appendAndRing(batch: readonly Outgoing[]): Promise<[Error | null, unknown][]> {
    const settled = await Promise.allSettled(
      batch.map((item) => this.guard.run('xadd', () => this.command.call('XADD', ...this.xaddArgs(item)))),
    )
    const ring = new Set<string>()
    batch.forEach((item, index) => {
      if (settled[index]!.status === 'fulfilled') ring.add(item.key)
    })
    for (const key of ring) {
      this.command.spublish(notifyChannel(key), this.options.instanceId).catch((error: unknown) => {
        this.options.metrics.relayErrors.inc({ op: 'notify' })
        this.logger.debug({ err: error, stream: key }, 'SPUBLISH failed; readers catch up by their sweep')
      })
    }
    return settled.map((result) =>
      result.status === 'fulfilled' ? [null, result.value] : [asError(result.reason), null],
    )
  }

  private maybeCompact(room: RelayRoom): void {
    if (room.compacting || room.left || room.seenSinceCompaction < this.tuning.compactEntries) return
    if (!this.connected) return
    room.compacting = true
    room.seenSinceCompaction = 0
    this.guard
      .run('compact', () =>
        compactDoc(this.command, room.keys, {
          instanceId: this.options.instanceId,
          lockMs: this.tuning.lockMs,
          trimMarginMs: this.tuning.trimMarginMs,
          pool: this.options.pool,
          logger: this.logger,
        }),
      )
      .then((outcome) => this.logger.debug({ doc: room.sink.docName, outcome }, 'stream compaction'))
      .catch((error: unknown) => this.redisError('compact', error))
      .finally(() => {
        room.compacting = false
      })
  }

  // Document API

  peekDoc(docName: string): Promise<Uint8Array[]> {
    return peekDocUpdates(this.command, docKeys(this.options.prefix, docName))
  }

  deleteDoc(docName: string): Promise<number> {
    return deleteDocState(this.command, docKeys(this.options.prefix, docName))
  }

  async clearDoc(docName: string): Promise<void> {
    // Pending appends go out first, so the removal below comes after our last word.
    await new Promise((resolve) => setImmediate(resolve))
    await this.flushing
    await removeInstanceUpdates(this.command, docKeys(this.options.prefix, docName), this.options.instanceId)
  }

  docGeneration(docName: string): Promise<number> {
    return readGeneration(this.command, docKeys(this.options.prefix, docName))
  }

  // Control channel

  broadcastControl(message: ControlMessage): void {
    this.enqueue(undefined, 'c', new TextEncoder().encode(JSON.stringify(message)), this.controlKey)
  }

  onControl(handler: (message: ControlMessage) => void): void {
    this.controlHandlers.push(handler)
  }

  onDocDeleted(handler: (docName: string, generation: number) => void): void {
    this.deletedHandlers.push(handler)
  }

  private async followControl(): Promise<void> {
    if (this.reader.isFollowing(this.controlKey)) return
    const last = (
      await this.guard.run('control-tail', () =>
        this.command.xrevrange(this.controlKey, '+', '-', 'COUNT', 1),
      )
    )[0]
    this.reader.follow(this.controlKey, last ? last[0] : ZERO_ID, (entries) => this.onControlEntries(entries))
  }

  private onControlEntries(entries: readonly RawEntry[]): void {
    for (const [id, fields] of entries) {
      const decoded = decodeEntry(fields)
      if (!decoded.ok || decoded.entry.instanceId === this.options.instanceId) continue
      const message = parseControl(decoded.entry.data)
      if (!message) {
        this.options.metrics.relayErrors.inc({ op: 'bad-control' })
        this.logger.warn({ id: id.toString() }, 'ignored a malformed control message')
        continue
      }
      this.logger.info(
        { control: message, from: decoded.entry.instanceId },
        'control message from the cluster',
      )
      for (const handler of this.controlHandlers) handler(message)
    }
  }

  private redisError(op: string, error: unknown): void {
    this.options.metrics.relayErrors.inc({ op })
    if (this.closed) return
    // While Redis is down every operation fails the same way; the state change is logged once.
    if (this.connected) this.logger.warn({ op, err: error }, 'Redis operation failed')
    else this.logger.debug({ op, err: error }, 'Redis operation failed while disconnected')
  }

  /** Publishes what is queued, stops reading, closes both connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    // Whatever rooms published while closing (awareness removals, last updates) goes out first.
    await new Promise((resolve) => setImmediate(resolve))
    await this.flushing
    await this.flush().catch((error: unknown) => this.redisError('xadd', error))
    this.closed = true
    clearInterval(this.generationTimer)
    await this.republishing
    for (const room of this.rooms.values()) this.leaveRoom(room)
    await this.reader.close()
    await withDeadline(this.command.quit(), this.tuning.commandTimeoutMs, 'QUIT').catch((error: unknown) => {
      this.logger.debug({ err: error }, 'QUIT failed; disconnecting')
      this.command.disconnect()
    })
    this.options.metrics.relayConnected.set(0)
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason))
}

function parseControl(data: Uint8Array): ControlMessage | undefined {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(data))
  } catch {
    return undefined // malformed JSON from a peer: reported by the caller
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { type, doc, sub } = value as Record<string, unknown>
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string'
  if (type === 'evict' && typeof doc === 'string') return { type, doc }
  const { generation } = value as Record<string, unknown>
  if (
    type === 'delete' &&
    typeof doc === 'string' &&
    Number.isSafeInteger(generation) &&
    (generation as number) > 0
  )
    return { type, doc, generation: generation as number }
  if (
    type === 'revoke' &&
    optionalString(doc) &&
    optionalString(sub) &&
    (doc === undefined) !== (sub === undefined)
  ) {
    return {
      type,
      ...(doc !== undefined ? { doc: doc as string } : {}),
      ...(sub !== undefined ? { sub: sub as string } : {}),
    }
  }
  return undefined
}
