/**
 * RedisStreamRelay: turns instances sharing a Redis into one service. Each doc has one
 * stream (see redis-keys.ts); every instance appends the updates and awareness its clients
 * make, tagged with its INSTANCE_ID and its relay's random nonce, and applies everyone else's
 * to its room (told apart by nonce: INSTANCE_ID need not be unique, instance-identity.ts).
 * Works on one Redis or a Redis Cluster (every key of a doc is in one slot). docs/cluster.md argues why nothing is
 * lost. This class is the façade over one module per job (docs/architecture.md, "Relay":
 * room-sync, stream-writer, the followers, control-channel, data-loss-watch, command-guard);
 * what stays here: connection health, recovery after a reconnect or a stall (single-flight),
 * the document API's view of Redis, and start / close.
 */
import { ClusterUnavailableError, YwsError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { WorkerPool } from '../workers/worker-pool.js'
import { CommandGuard } from './command-guard.js'
import { ControlChannel } from './control-channel.js'
import { DataLossWatch } from './data-loss-watch.js'
import { withDeadline } from './deadline.js'
import { InstanceIdentity } from './instance-identity.js'
import { type RedisClient, serverRunIds, someServerRestarted } from './redis-client.js'
import { deleteDocState, peekDocUpdates, readGeneration, removeInstanceUpdates } from './redis-doc-admin.js'
import { controlKey, docKeys } from './redis-keys.js'
import type { ControlMessage, Relay, RelaySink, RoomRelay } from './relay.js'
import type { StoredDocs } from './republisher.js'
import { RoomSync, type RoomSyncContext } from './room-sync.js'
import type { StreamFollower } from './stream-follower.js'
import { StreamWriter } from './stream-writer.js'
import type { RedisConnections, RedisTopology } from './topology.js'
import { DEFAULT_RELAY_TUNING, type RedisRelayTuning } from './tuning.js'

export { DEFAULT_RELAY_TUNING, type RedisRelayTuning } from './tuning.js'

export interface RedisStreamRelayOptions {
  /** INSTANCE_ID: a label for logs; need not be unique (the relay's nonce tells entries apart). */
  readonly instanceId: string
  readonly prefix: string
  readonly logger: Logger
  readonly metrics: Metrics
  /** The process's worker pool (app.ts creates it; the relay never closes it). */
  readonly pool: WorkerPool
  readonly connections: RedisConnections
  readonly topology: RedisTopology
  readonly tuning?: Partial<RedisRelayTuning>
  /** The setting and address Redis is reached by, for start-up messages (no password). */
  readonly target?: string
}

export class RedisStreamRelay implements Relay {
  readonly mode = 'cluster'
  /** Who this relay is in Redis (label and nonce). */
  readonly identity: InstanceIdentity
  private readonly tuning: RedisRelayTuning
  private readonly command: RedisClient
  private readonly guard: CommandGuard
  private readonly follower: StreamFollower
  private readonly writer: StreamWriter
  private readonly control: ControlChannel
  private readonly dataLoss: DataLossWatch
  private readonly rooms = new Map<string, RoomSync>()
  /** Update XADDs handed to the writer and not settled yet, per doc (rooms that left included). */
  private readonly unconfirmedAppends = new Map<string, number>()
  private readonly deletedHandlers: ((docName: string, generation: number) => void)[] = []
  private readonly logger: Logger
  private readonly roomContext: RoomSyncContext
  private runIds: string[] | undefined
  private recovering: Promise<void> | undefined
  private recoverAgain = false
  private wasConnected = false
  /** The last connection error ioredis reported (its connect() only says "Connection is closed."). */
  private lastConnectionError: unknown
  private closed = false
  private closing: Promise<void> | undefined

  constructor(private readonly options: RedisStreamRelayOptions) {
    const tuning = { ...DEFAULT_RELAY_TUNING, ...options.tuning }
    const { metrics } = options
    const logger = options.logger.child({ component: 'relay' })
    const identity = new InstanceIdentity(options.instanceId, logger)
    this.identity = identity
    this.tuning = tuning
    this.logger = logger
    this.command = options.connections.command
    this.guard = new CommandGuard(this.command, {
      timeoutMs: tuning.commandTimeoutMs,
      logger,
      metrics,
      onHealthChange: this.onConnectionChange,
    })
    this.follower = options.topology.createFollower({
      hooks: {
        onReconnected: () => this.recoverAll('reconnect'),
        onStall: (turn) => {
          // Checked every late turn; said once per stall (with trimMarginMs 0 every turn is late).
          if (turn === 'began') this.logger.warn('relay reader stalled; checking every room for gaps')
          this.recoverInBackground('stall')
        },
        onError: (error) => this.redisError('xread', error),
      },
      tuning,
      logger,
      nonce: identity.nonce,
    })
    const { command, guard, follower } = this
    const strategy = options.topology.createAppender({
      command,
      guard,
      identity,
      controlMaxLen: tuning.controlMaxLen,
      metrics,
      logger,
    })
    this.writer = new StreamWriter({ strategy, metrics, onError: (op, error) => this.redisError(op, error) })
    const { writer } = this
    this.control = new ControlChannel({
      key: controlKey(options.prefix),
      ...{ identity, command, guard, follower, writer, metrics, logger },
    })
    this.dataLoss = new DataLossWatch({
      ...{ command, guard, identity, metrics, logger, prefix: options.prefix },
      checkMs: tuning.generationCheckMs,
      republishBatch: tuning.republishBatch,
      isOpen: (docName) => this.rooms.has(docName),
      openRooms: () => this.rooms.size,
      resyncRooms: () => {
        for (const room of this.rooms.values()) room.resync('redis-data-lost')
      },
      connected: () => this.connected,
      closed: () => this.closed,
      onError: (op, error) => this.redisError(op, error),
    })
    this.roomContext = {
      ...{ identity, tuning, logger, metrics, command, guard, follower, writer, pool: options.pool },
      connected: () => this.connected,
      closed: () => this.closed,
      redisError: (op, error) => this.redisError(op, error),
      docDeleted: (docName, generation) => {
        for (const handler of this.deletedHandlers) handler(docName, generation)
      },
      owe: (docName) => this.dataLoss.owe(docName),
      unconfirmed: (docName, delta) => {
        const count = (this.unconfirmedAppends.get(docName) ?? 0) + delta
        if (count > 0) {
          this.unconfirmedAppends.set(docName, count)
          return
        }
        this.unconfirmedAppends.delete(docName)
        this.dataLoss.confirmed(docName)
      },
      left: (room) => {
        if (this.rooms.get(room.docName) !== room) return
        this.rooms.delete(room.docName)
        this.follower.unfollow(room.keys.stream)
      },
    }
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
        // Local editing never waits for Redis: start anyway (/readyz 503 until Redis answers,
        // 200 "degraded" with ?allowDegraded), and the reader catches every room up then.
        const cause = this.lastConnectionError ?? result.reason
        const target = this.options.target ?? 'Redis'
        this.logger.warn(
          { err: cause, target },
          `${target} is unreachable at start (${describeError(cause)}); serving locally until it is back`,
        )
      }
    }
    this.onConnectionChange()
    this.follower.start()
    this.dataLoss.start()
    // Control messages broadcast once start() resolved are heard (Redis up): they are "now"
    // events, followed from the tail. Otherwise the recovery on connect follows it.
    if (this.connected)
      await this.control.follow().catch((error: unknown) => this.redisError('control-tail', error))
  }

  attachStoredDocs(docs: StoredDocs): void {
    this.dataLoss.attachStoredDocs(docs)
  }

  beforeStore(docs: ReadonlySet<string>): Promise<void> | undefined {
    // The common case (every XADD answered before the flush interval ends) waits for nothing
    // and writes nothing, except behind a mark write already in flight.
    for (const docName of docs) {
      if (this.unconfirmedAppends.has(docName)) this.dataLoss.holdUntilConfirmed(docName)
    }
    return this.dataLoss.marksWritten()
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

  async join(sink: RelaySink, generation?: number): Promise<RoomRelay> {
    const room = new RoomSync(this.roomContext, sink, docKeys(this.options.prefix, sink.docName), generation)
    this.rooms.get(sink.docName)?.stop()
    this.rooms.set(sink.docName, room)
    await room.join()
    return room
  }

  private recoverInBackground(why: string): void {
    void this.recoverAll(why).catch((error: unknown) => this.redisError('recover', error))
  }

  /**
   * After a reconnect or a stall: a room continues from its last id unless it is stale or
   * has a gap; if Redis itself (or a Cluster master) restarted (a run_id is gone) every room
   * resyncs. Single-flight.
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
      const lost = await this.dataLoss.check(!restarted)
      await this.control.follow()
      await Promise.all(
        [...this.rooms.values()].map((room) =>
          restarted ? room.resync('redis-restarted') : lost ? undefined : room.checkGap(),
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

  // Document API

  peekDoc(docName: string): Promise<Uint8Array[]> {
    return this.docCall('peek-doc', () => peekDocUpdates(this.command, docKeys(this.options.prefix, docName)))
  }

  deleteDoc(docName: string): Promise<number> {
    return this.docCall('delete-doc', () =>
      deleteDocState(this.command, docKeys(this.options.prefix, docName)),
    )
  }

  async clearDoc(docName: string, generation?: number): Promise<void> {
    // Pending appends go out first, so the removal below comes after our last word.
    await this.writer.drain()
    const keys = docKeys(this.options.prefix, docName)
    await this.docCall('clear-doc', () =>
      removeInstanceUpdates(this.command, keys, this.identity.nonce, generation),
    )
  }

  docGeneration(docName: string): Promise<number> {
    return this.docCall('doc-generation', () =>
      readGeneration(this.command, docKeys(this.options.prefix, docName)),
    )
  }

  /**
   * A document-API call under the command deadline, like every relay call: a silent Redis
   * cannot hold an admin request for ioredis's own timeout. Any failure that is not already
   * catalogued (CorruptStateError stays what it is) becomes ClusterUnavailableError (503):
   * the raw ioredis errors answered 500 "internal error" (newcomer run, 2026-12-01).
   */
  private async docCall<T>(op: string, work: () => Promise<T>): Promise<T> {
    try {
      return await this.guard.run(op, work)
    } catch (error) {
      if (error instanceof YwsError) throw error
      throw new ClusterUnavailableError(`Redis did not answer (${op}: ${describeError(error)}); retry`, {
        cause: error,
      })
    }
  }

  // Control channel

  broadcastControl(message: ControlMessage): void {
    // Best effort, like the interface says: not queued while Redis is away.
    if (this.closed || !this.connected) return
    this.control.broadcast(message)
  }

  onControl(handler: (message: ControlMessage) => void): void {
    this.control.onMessage(handler)
  }

  onDocDeleted(handler: (docName: string, generation: number) => void): void {
    this.deletedHandlers.push(handler)
  }

  private redisError(op: string, error: unknown): void {
    this.options.metrics.relayErrors.inc({ op })
    if (this.closed) return
    // While Redis is down every operation fails the same way; the state change is logged once.
    if (this.connected) this.logger.warn({ op, err: error }, 'Redis operation failed')
    else this.logger.debug({ op, err: error }, 'Redis operation failed while disconnected')
  }

  /** Publishes what is queued, stops reading, closes both connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce()
    return this.closing
  }

  private async closeOnce(): Promise<void> {
    // Whatever rooms published while closing (awareness removals, last updates) goes out first.
    await this.writer.drain()
    await this.writer.flush().catch((error: unknown) => this.redisError('xadd', error))
    this.closed = true
    // Rooms first: one that leaves while not live marks its doc owed, and dataLoss.stop()
    // waits for that mark to be on disk (the store closes after the relay).
    for (const room of this.rooms.values()) room.stop()
    await this.dataLoss.stop()
    await this.follower.close()
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
