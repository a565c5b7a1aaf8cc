/**
 * Notices that Redis lost its data (the generation marker vanished or changed: a restart
 * without persistence, FLUSHALL, a failover to an empty replica, an eviction) and repairs
 * what this instance can: every open room resyncs (the relay does that when told), and every
 * stored doc not open here is re-published in batches (republisher.ts). Checked every
 * `generationCheckMs` while connected (a FLUSHALL closes no connection) and on every
 * recovery. The first observation after start counts as a loss only if the marker was
 * missing (a new Redis or prefix), and is logged as info, not as a data-loss warning. A re-publication that did not complete stays owed and is retried
 * on the next check.
 *
 * It also publishes the docs marked owed (StoredDocs.owed): a room that went stale while Redis
 * was away marks its doc on disk, because only open rooms resync on reconnect. Without the
 * mark, an edit accepted during an outage in a doc that unloaded (or whose instance
 * restarted) before Redis returned stayed on this disk alone, invisible to the other
 * instances. Each check while connected publishes the marked docs not open here (their stored
 * state, like the re-publication) and clears their marks; open ones resync by themselves and
 * keep their mark until a later check finds them closed.
 *
 * A third kind of mark covers an update whose XADD is still unanswered when the store writes
 * it (Redis silent, not gone: SIGSTOPped, a black-holed link, before the command deadline):
 * the store asks first (`holdUntilConfirmed`, through the relay's beforeStore), the mark goes
 * to disk ahead of the update, and it is removed again once every such XADD landed
 * (`confirmed`). A process killed in between leaves the mark, and its next start publishes
 * the doc. Without it the update stayed on this disk alone (newcomer run, 2026-12-01: 95 of
 * 144 words typed during a 2 s SIGSTOP of Redis, then SIGKILL, never reached the other
 * instance).
 */
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { CommandGuard } from './command-guard.js'
import type { InstanceIdentity } from './instance-identity.js'
import type { RedisClient } from './redis-client.js'
import {
  generationKey,
  observeGeneration,
  type RepublishOptions,
  republishStoredDocs,
  type StoredDocs,
} from './republisher.js'

export interface DataLossWatchOptions {
  readonly command: RedisClient
  readonly guard: CommandGuard
  readonly prefix: string
  readonly identity: InstanceIdentity
  readonly checkMs: number
  readonly republishBatch: number
  readonly metrics: Metrics
  readonly logger: Logger
  /** Docs open here (left out of the re-publication: their rooms resync). */
  readonly isOpen: (docName: string) => boolean
  readonly openRooms: () => number
  /** Redis lost its data: resync every open room. */
  readonly resyncRooms: () => void
  readonly connected: () => boolean
  readonly closed: () => boolean
  readonly onError: (op: string, error: unknown) => void
}

export class DataLossWatch {
  private storedDocs: StoredDocs | undefined
  /** The Redis data generation last seen (undefined: not yet observed). */
  private generation: string | undefined
  /** A re-publication of stored docs is owed (Redis lost data; not completed yet). */
  private republishOwed = false
  private republishing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  /** Docs marked owed by this process and not yet published (saves a disk write per stale room). */
  private readonly owedHere = new Set<string>()
  /** Docs marked only because an XADD of theirs was unanswered when the store wrote them. */
  private readonly unconfirmedHere = new Set<string>()
  /** Mark writes and deletions, in order (a deletion must not overtake the write it clears). */
  private owedWrites: Promise<void> = Promise.resolve()

  constructor(private readonly options: DataLossWatchOptions) {}

  attachStoredDocs(docs: StoredDocs): void {
    this.storedDocs = docs
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.options.connected()) return
      this.check().catch((error: unknown) => this.options.onError('generation', error))
    }, this.options.checkMs)
    this.timer.unref()
  }

  /** Stops checking; resolves once a re-publication in flight and every mark write have ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.republishing
    await this.owedWrites
  }

  /**
   * Marks a doc whose stored state Redis may lack (a room went stale, or left while not live):
   * the mark is on disk before a later check can need it, and survives the room and the process.
   */
  owe(docName: string): void {
    const docs = this.storedDocs
    if (!docs || this.owedHere.has(docName)) return
    this.owedHere.add(docName)
    this.queueOwedWrite('owe', () => docs.owed.add(docName))
  }

  /**
   * The store is about to write updates of `docName` whose XADD Redis has not answered yet:
   * marks it (unsynced: the mark only has to precede those updates in LevelDB's log) unless
   * it is marked already. Wait for `marksWritten()` before writing the updates.
   */
  holdUntilConfirmed(docName: string): void {
    const docs = this.storedDocs
    if (!docs || this.owedHere.has(docName) || this.unconfirmedHere.has(docName)) return
    this.unconfirmedHere.add(docName)
    this.queueOwedWrite('owe', () => docs.owed.add(docName, { sync: false }))
  }

  /**
   * Every XADD of `docName` landed: a mark written by holdUntilConfirmed is removed, unless
   * the doc is owed for another reason (a dropped or failed publish) meanwhile.
   */
  confirmed(docName: string): void {
    const docs = this.storedDocs
    if (!docs || !this.unconfirmedHere.delete(docName) || this.owedHere.has(docName)) return
    this.queueOwedWrite('confirm', () => docs.owed.delete(docName))
  }

  /** Resolves once every mark write queued so far is done (it never rejects). */
  marksWritten(): Promise<void> {
    return this.owedWrites
  }

  private queueOwedWrite(op: string, write: () => Promise<void>): Promise<void> {
    this.owedWrites = this.owedWrites.then(write).catch((error: unknown) => this.options.onError(op, error))
    return this.owedWrites
  }

  /** true when Redis lost its data since the last check (rooms resync unless `resyncRooms` is false). */
  async check(resyncRooms = true): Promise<boolean> {
    const { guard, command, prefix, logger } = this.options
    const seen = await guard.run('generation', () => observeGeneration(command, generationKey(prefix)))
    const first = this.generation === undefined
    const lost = first ? seen.created : seen.value !== this.generation
    this.generation = seen.value
    if (lost && first) {
      // Missing at the first look: a new Redis or REDIS_PREFIX (every first start), or one
      // emptied while this instance was down. Not a warning: the two look alike from here, and
      // the re-publication is all either needs (nothing to send on a fresh data dir).
      logger.info(
        { rooms: this.options.openRooms(), created: seen.created },
        'Redis data generation marker created (new Redis or prefix, or emptied while this instance was down); re-publishing stored docs',
      )
    } else if (lost) {
      logger.warn(
        { rooms: this.options.openRooms(), created: seen.created },
        'Redis lost its data (generation marker changed); resyncing rooms and re-publishing stored docs',
      )
    }
    if (lost) {
      if (resyncRooms) this.options.resyncRooms()
      this.republishOwed = true
    }
    if (this.republishOwed) this.republishInBackground()
    else this.publishOwedInBackground()
    return lost
  }

  /** Publishes the docs marked owed that are not open here, then clears their marks. */
  private publishOwedInBackground(): void {
    const docs = this.storedDocs
    const { options } = this
    if (!docs || this.republishing || options.closed()) return
    this.republishing = this.publishOwed(docs)
      .catch((error: unknown) => options.onError('publish-owed', error))
      .finally(() => {
        this.republishing = undefined
      })
  }

  private async publishOwed(docs: StoredDocs): Promise<void> {
    const { options } = this
    await this.owedWrites
    const marked: string[] = []
    for await (const name of docs.owed.names()) if (!options.isOpen(name)) marked.push(name)
    if (marked.length === 0) return
    // From here a new stale room of one of these docs marks it again (its change may be newer
    // than the state loaded below), and that mark is kept.
    for (const name of marked) this.owedHere.delete(name)
    const result = await republishStoredDocs(
      this.republishOptions({
        names: async function* () {
          yield* marked
        },
        load: (name) => docs.loadUndeleted(name),
        owed: docs.owed,
        loadUndeleted: (name) => docs.loadUndeleted(name),
      }),
    )
    if (!result.complete) return
    const published = marked.filter((name) => !this.owedHere.has(name) && !options.isOpen(name))
    for (const name of published) await this.queueOwedWrite('publish-owed', () => docs.owed.delete(name))
    options.logger.info(
      { docs: result.docs, bytes: result.bytes, seconds: result.seconds },
      'docs changed while Redis was away published to Redis',
    )
  }

  /** What both publishing paths (owed docs, every stored doc) give the republisher besides `docs`. */
  private republishOptions(docs: StoredDocs): RepublishOptions {
    const { options } = this
    return {
      redis: options.command,
      prefix: options.prefix,
      identity: options.identity,
      docs,
      skip: options.isOpen,
      batchSize: options.republishBatch,
      guard: (work) => options.guard.run('republish', work),
      metrics: options.metrics,
      logger: options.logger,
      cancelled: () => options.closed() || !options.connected(),
    }
  }

  private republishInBackground(): void {
    const docs = this.storedDocs
    const { options } = this
    if (!docs || this.republishing || options.closed()) return
    this.republishing = republishStoredDocs(this.republishOptions(docs))
      .then((result) => {
        if (result.complete) this.republishOwed = false
        options.metrics.relayRepublishSeconds.set(result.seconds)
        options.logger.info(
          { docs: result.docs, bytes: result.bytes, seconds: result.seconds, complete: result.complete },
          'stored docs re-published to Redis',
        )
      })
      .catch((error: unknown) => options.onError('republish', error))
      .finally(() => {
        this.republishing = undefined
      })
  }
}
