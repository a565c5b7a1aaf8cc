/**
 * Owns every open Room on this instance: single-flight loading (concurrent joins share one
 * load), reference counting by connection, and unloading after an idle grace period.
 *
 * Room states:   (absent) --acquire--> loading --loaded--> open --last release--> idle
 *                idle --acquire (within grace)--> open
 *                idle --grace elapsed--> unloading --flushed--> (absent)
 * An acquire during `unloading` waits for it to finish, then loads afresh, so a doc is never
 * open twice and never served from a half-destroyed room.
 * Independently, a sweep every `docIdleMs / 2` lets each open room drop a Y.Doc nobody used
 * since the previous sweep (doc-holder.ts): an open but quiet doc is held encoded.
 */
import { TooManyDocsError, YwsError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { Relay } from '../relay/relay.js'
import type { DocStore } from '../storage/doc-store.js'
import { Room, type RoomDeps } from './room.js'

/** Default quiet time after which an open room drops its Y.Doc (15-30 s: two sweeps). */
export const DOC_IDLE_MS = 30_000

/** MAX_OPEN_DOCS reached (catalogued in errors.ts). */
export { TooManyDocsError }

interface Entry {
  room: Room
  holders: number
  idleTimer: NodeJS.Timeout | undefined
}

export interface RoomRegistryOptions {
  readonly store: DocStore
  readonly relay: Relay
  readonly metrics: Metrics
  readonly logger: Logger
  readonly maxDocBytes: number
  readonly maxOpenDocs: number
  readonly roomIdleMs: number
  /** An open room's Y.Doc unused this long is dropped, the doc held encoded (0: never). */
  readonly docIdleMs?: number | undefined
  /** The worker pool (see RoomDeps.workers). */
  readonly workers?: RoomDeps['workers']
  /**
   * Runs before a doc is loaded from the store (the document API's deletion gate: wait for a
   * delete in progress, drop a local copy older than the cluster's last delete).
   */
  readonly beforeLoad?: (docName: string) => Promise<void>
  /**
   * Runs once per load, after storage and the relay caught the room up and before anyone is
   * served from it (the `onLoadDocument` hook seeds here). A throw fails the load: the room
   * is discarded and every waiting acquire rejects with it.
   */
  readonly afterLoad?: ((room: Room) => Promise<void>) | undefined
  /**
   * Called just before a room is destroyed on unload, to read its final state (the last
   * `onStoreDocument` report). Synchronous: anything slow must continue in the background.
   */
  readonly beforeUnload?: ((room: Room) => void) | undefined
  /** Every change of every room (see RoomDeps.onChange). */
  readonly onChange?: RoomDeps['onChange']
}

/** Longest stretch of one sweep slice before it yields to other rooms' messages (ms). */
const SWEEP_SLICE_MS = 5

export class RoomRegistry {
  private readonly open = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<Entry>>()
  private readonly unloading = new Map<string, Promise<void>>()
  private readonly roomDeps: RoomDeps
  private readonly sweeper: NodeJS.Timeout | undefined
  private closed = false
  /** A sliced sweep is running (sweepInSlices). */
  private sweeping = false

  constructor(private readonly options: RoomRegistryOptions) {
    this.roomDeps = {
      store: options.store,
      metrics: options.metrics,
      logger: options.logger,
      maxDocBytes: options.maxDocBytes,
      workers: options.workers,
      onChange: options.onChange,
    }
    const docIdleMs = options.docIdleMs ?? DOC_IDLE_MS
    if (docIdleMs > 0) {
      this.sweeper = setInterval(() => this.sweepInSlices(), Math.max(1, Math.floor(docIdleMs / 2)))
      this.sweeper.unref()
    }
  }

  /** Lets every open room drop a Y.Doc left unused since the previous sweep; returns how many did. */
  sweepQuietDocs(): number {
    let dropped = 0
    for (const entry of this.open.values()) if (entry.room.content.sweep()) dropped += 1
    if (dropped > 0) this.options.logger.debug({ dropped }, 'quiet docs held encoded')
    return dropped
  }

  /**
   * The timer's sweep: the same as sweepQuietDocs, but it yields to other work every
   * SWEEP_SLICE_MS. Docs that went quiet together (a load that stopped, a class that ended)
   * each cost one encode; 1,000 of them in one macrotask would hold every other room's
   * messages for that long (the same kind of stall as compactions/checkpoints coming due
   * together, issue 16). A sweep still running when the next is due is not doubled.
   */
  private sweepInSlices(): void {
    if (this.sweeping) return
    const names = [...this.open.keys()]
    let next = 0
    let dropped = 0
    this.sweeping = true
    const slice = (): void => {
      const until = performance.now() + SWEEP_SLICE_MS
      while (next < names.length && !this.closed && performance.now() < until) {
        const room = this.open.get(names[next++] as string)?.room
        if (room?.content.sweep()) dropped += 1
      }
      if (next < names.length && !this.closed) {
        setImmediate(slice)
        return
      }
      this.sweeping = false
      if (dropped > 0) this.options.logger.debug({ dropped }, 'quiet docs held encoded')
    }
    slice()
  }

  get size(): number {
    return this.open.size
  }

  rooms(): IterableIterator<Room> {
    return [...this.open.values()].map((entry) => entry.room)[Symbol.iterator]()
  }

  get(docName: string): Room | undefined {
    return this.open.get(docName)?.room
  }

  /** Returns the loaded room and holds it open until `release`. */
  async acquire(docName: string): Promise<Room> {
    for (;;) {
      if (this.closed) throw new YwsError('YWS_ERR_CLOSED', 'server is shutting down')
      const unloading = this.unloading.get(docName)
      if (unloading) {
        await unloading
        continue
      }
      const entry = this.open.get(docName) ?? (await this.loadOnce(docName))
      // The room may have started unloading while we awaited the load; loop and reload.
      if (this.open.get(docName) !== entry) continue
      if (entry.idleTimer) clearTimeout(entry.idleTimer)
      entry.idleTimer = undefined
      entry.holders += 1
      return entry.room
    }
  }

  release(room: Room): void {
    const entry = this.open.get(room.docName)
    if (!entry || entry.room !== room) return
    entry.holders -= 1
    if (entry.holders > 0 || this.closed) return
    entry.idleTimer = setTimeout(() => {
      this.unload(room.docName).catch((error: unknown) =>
        this.options.logger.error({ doc: room.docName, err: error }, 'unload failed'),
      )
    }, this.options.roomIdleMs)
  }

  private loadOnce(docName: string): Promise<Entry> {
    const existing = this.loading.get(docName)
    if (existing) return existing
    if (this.open.size + this.loading.size >= this.options.maxOpenDocs && !this.unloadOneIdle()) {
      throw new TooManyDocsError(`MAX_OPEN_DOCS (${this.options.maxOpenDocs}) reached`)
    }
    const load = this.load(docName).finally(() => this.loading.delete(docName))
    this.loading.set(docName, load)
    return load
  }

  private async load(docName: string): Promise<Entry> {
    const started = performance.now()
    await this.options.beforeLoad?.(docName)
    // Read before the room reads the store: a delete of the doc after the gate above is then
    // noticed by the join (a newer generation in the cluster) instead of the deleted copy
    // being published into the doc as it is after the delete.
    const generation =
      this.options.relay.mode === 'cluster' ? await this.options.store.generation(docName) : undefined
    const room = await Room.open(docName, this.roomDeps)
    try {
      room.attachRelay(await this.options.relay.join(room, generation))
      if (this.options.afterLoad) await this.options.afterLoad(room)
    } catch (error) {
      await room.destroy()
      throw error
    }
    const entry: Entry = { room, holders: 0, idleTimer: undefined }
    this.open.set(docName, entry)
    this.options.metrics.openDocs.set(this.open.size)
    this.options.metrics.docLoadSeconds.observe((performance.now() - started) / 1000)
    return entry
  }

  /**
   * At the open-docs cap, a room nobody is connected to (waiting out its grace period) makes
   * way for one somebody wants. Its slot is free at once; the flush finishes in the background.
   */
  private unloadOneIdle(): boolean {
    for (const [docName, entry] of this.open) {
      if (entry.holders === 0) {
        this.unload(docName).catch((error: unknown) =>
          this.options.logger.error({ doc: docName, err: error }, 'unload failed'),
        )
        return true
      }
    }
    return false
  }

  /** Flushes and frees a room now (idle timeout, admin eviction or shutdown). */
  unload(docName: string): Promise<void> {
    const running = this.unloading.get(docName)
    if (running) return running
    // A load in flight ends as an open room: unloading only what is open now would leave it
    // open after a delete or evict that had already "unloaded" the doc (a delete would then
    // keep serving, storing and relaying the content it deleted). Its failure is the loader's.
    const loading = this.loading.get(docName)
    if (loading)
      return loading.then(
        () => this.unload(docName),
        () => undefined,
      )
    const entry = this.open.get(docName)
    if (!entry) return Promise.resolve()
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    const task = (async () => {
      this.open.delete(docName)
      this.options.metrics.openDocs.set(this.open.size)
      // A big update still merging off the loop is fanned out (stored) first.
      await entry.room.settled()
      this.options.beforeUnload?.(entry.room)
      await entry.room.destroy()
      // Everything the room appended is queued in the store; make it durable before the
      // room is gone (the store keeps retrying a failed write, so nothing is dropped).
      await this.options.store.flush()
      this.options.store.evict(docName)
    })().finally(() => this.unloading.delete(docName))
    this.unloading.set(docName, task)
    return task
  }

  /** Unloads every room (shutdown). Connections must already be closed. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweeper)
    await Promise.allSettled(this.loading.values())
    await Promise.all([...this.open.keys()].map((docName) => this.unload(docName)))
  }
}
