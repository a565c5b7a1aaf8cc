/**
 * The document API's operations on one instance: read a doc's full state from wherever the
 * cluster holds it, apply an update through the doc's room, delete a doc everywhere, and the
 * deletion gate every room load passes through. The HTTP shape is in http/document-routes.ts.
 *
 * Deletion (docs/integrations.md, "Deleting a document") uses a per-doc deletion generation:
 * Redis holds the cluster's (`…:gen`, INCR per delete, kept as the tombstone), each LevelDB
 * the one its copy of the doc belongs to. A copy whose generation is below the cluster's is
 * from before a delete and is dropped before it can be loaded — so an instance that was down
 * during the delete cannot bring the doc back from its disk.
 *
 *   DELETE on instance A:  close A's clients (4404), unload the room (flush)
 *                          -> Redis: INCR gen, DEL stream + snapshot (one MULTI)
 *                          -> A's LevelDB: delete the doc, record gen (one batch)
 *                          -> control message {delete, doc, gen} to every instance
 *                          -> onDeleteDocument hook (here only: once per cluster)
 *   control on instance B: close B's clients (4404), unload, delete from LevelDB with gen,
 *                          then remove B's own update entries from the stream: whatever B
 *                          published before its room closed (a late relay entry) is removed
 *                          after B's last word; other instances' new entries stay.
 *   resync safety net:     a room whose resync finds a higher generation than it joined with
 *                          (it missed the control message, e.g. Redis was away) takes the
 *                          same path instead of publishing its state.
 *   any room load:         wait for a delete of that doc in progress here; in a cluster,
 *                          drop the local copy if its generation is below Redis's.
 */

import { ClusterUnavailableError } from '../errors.js'
import type { HookUser } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import { validateUpdate } from '../protocol/messages.js'
import { isEmptyUpdate } from '../protocol/update-format.js'
import type { Relay } from '../relay/relay.js'
import type { RoomRegistry } from '../room/room-registry.js'
import type { DocStore } from '../storage/doc-store.js'
import type { WorkerPool } from '../workers/worker-pool.js'

/** Redis unreachable for an operation that must reach every instance (catalogued in errors.ts). */
export { ClusterUnavailableError }

/** The admin caller, as hooks see it. */
export const ADMIN_USER: HookUser = Object.freeze({ id: 'admin' })

export interface DocumentServiceDeps {
  readonly registry: RoomRegistry
  readonly store: DocStore
  readonly relay: Relay
  readonly pool: WorkerPool
  readonly logger: Logger
  /** Closes this instance's connections to the doc with 4404; returns how many. */
  readonly closeClients: (docName: string) => number
  /** Seam for the library's hook runner: fired once per cluster, on the deleting instance. */
  readonly onDeleted?: (context: { docName: string; user: HookUser | undefined }) => Promise<void> | void
}

export class DocumentService {
  /** Deletes in progress on this instance, so a load of the same doc waits for them. */
  private readonly deleting = new Map<string, Promise<unknown>>()

  constructor(private readonly deps: DocumentServiceDeps) {}

  /**
   * The doc's full state as one Yjs update, or undefined when no part of the cluster holds
   * it. An open room is authoritative (it follows the relay); otherwise this instance's
   * LevelDB and the cluster's Redis state are merged, so a doc only another instance hosted
   * is found too.
   */
  async read(docName: string): Promise<Uint8Array | undefined> {
    const room = this.deps.registry.get(docName)
    if (room) return room.encodeStateAsUpdate()
    await this.gate(docName)
    const updates: Uint8Array[] = []
    const stored = await this.deps.store.load(docName)
    // Loading made the store track the doc; nothing keeps it open, so forget it again.
    if (!this.deps.registry.get(docName)) this.deps.store.evict(docName)
    if (stored.snapshotBytes > 0 || stored.logEntries > 0) updates.push(stored.update)
    for (const update of await this.deps.relay.peekDoc(docName)) {
      // Redis content is peer data: a bad entry is skipped (the relay reports it when it reads it).
      if (validateUpdate(update) === undefined) updates.push(update)
    }
    if (updates.length === 0) return undefined
    return updates.length === 1 ? updates[0] : this.deps.pool.merge(updates)
  }

  /**
   * Whether any part of the cluster holds the doc (an open room here, or state on disk or in
   * Redis), found without opening a room: a request about an unknown doc must change nothing.
   */
  async exists(docName: string): Promise<boolean> {
    return this.deps.registry.get(docName) !== undefined || (await this.read(docName)) !== undefined
  }

  /**
   * Applies a validated update to the doc through its room: connected editors see it, it is
   * stored (on disk when this resolves, unless `flush: false`) and relayed.
   * @throws DocumentTooLargeError (nothing applied), TooManyDocsError (no room could be opened)
   */
  async applyUpdate(docName: string, update: Uint8Array, options: { flush?: boolean } = {}): Promise<void> {
    // It changes no doc: opening a room for it would make an unknown doc appear (open, listed,
    // readable as `{}`) until the room idles out, though nothing was stored.
    if (isEmptyUpdate(update)) return
    await this.catchUpOnDelete(docName)
    const room = await this.deps.registry.acquire(docName)
    try {
      room.applyApiUpdate(update)
    } finally {
      this.deps.registry.release(room)
    }
    // An import flushes once at its end instead of once per doc.
    if (options.flush !== false) await this.deps.store.flush()
  }

  /**
   * Deletes the doc on every instance (see the header). Resolves with how many of this
   * instance's clients were closed, or undefined when no part of the cluster held the doc
   * (then nothing was changed).
   */
  async delete(docName: string, user: HookUser = ADMIN_USER): Promise<{ closed: number } | undefined> {
    // Checked before anything is closed: a delete that cannot reach the cluster changes nothing.
    if (!this.deps.relay.connected) {
      throw new ClusterUnavailableError('Redis is unreachable: a delete must reach every instance; retry')
    }
    if ((await this.read(docName)) === undefined) return undefined
    const task = (async () => {
      const closed = await this.unloadHere(docName)
      // 0: no shared state (standalone): the store's next generation.
      const shared = await this.deps.relay.deleteDoc(docName).catch((error: unknown) => {
        // The MULTI may have run (a silent Redis runs what it already received): a retry
        // then finds the doc gone (404) or deletes it.
        throw new ClusterUnavailableError(
          `Redis did not confirm the delete, which may or may not have happened; repeat the DELETE (${error instanceof Error ? error.message : String(error)})`,
          { cause: error },
        )
      })
      const generation = shared > 0 ? shared : (await this.deps.store.generation(docName)) + 1
      await this.deps.store.deleteDoc(docName, generation)
      this.deps.relay.broadcastControl({ type: 'delete', doc: docName, generation })
      this.deps.logger.info({ doc: docName, generation, closed }, 'document deleted')
      return closed
    })()
    const closed = await this.track(docName, task)
    try {
      await this.deps.onDeleted?.({ docName, user })
    } catch (error) {
      this.deps.logger.error({ doc: docName, err: error }, 'onDeleteDocument hook failed')
    }
    return { closed }
  }

  /** Another instance deleted the doc under `generation`: drop it here too. */
  deletedElsewhere(docName: string, generation: number): Promise<void> {
    return this.dropDeleted(docName, generation)
  }

  /**
   * An API write must land in the doc as the cluster has it now. After a DELETE answered on
   * another instance, this one may not have processed the control message yet: its open room
   * still holds the deleted generation, and the write would go with it when the message
   * arrives, though its caller was told it was applied (and its relay entry would be skipped
   * by every room opened since: stream-entry.ts `isStaleUpdate`). So drop the old copy first.
   * Like the load gate, a Redis that cannot be asked leaves the local copy in place.
   */
  private async catchUpOnDelete(docName: string): Promise<void> {
    await this.deleting.get(docName)
    // Not open here: the load gate (beforeLoad) does the same check.
    if (!this.deps.registry.get(docName) || !this.deps.relay.connected) return
    let clusterGeneration: number
    try {
      clusterGeneration = await this.deps.relay.docGeneration(docName)
    } catch {
      return
    }
    if (clusterGeneration > (await this.deps.store.generation(docName))) {
      await this.dropDeleted(docName, clusterGeneration)
    }
  }

  private dropDeleted(docName: string, generation: number): Promise<void> {
    const task = (async () => {
      const closed = await this.unloadHere(docName)
      if ((await this.deps.store.generation(docName)) < generation) {
        await this.deps.store.deleteDoc(docName, generation)
      }
      // This instance's last relay entries from before the delete go too; only its own, and only
      // those written under an older generation (what it wrote since is new content).
      await this.deps.relay.clearDoc(docName, generation)
      this.deps.logger.info({ doc: docName, generation, closed }, 'document deleted by another instance')
    })()
    return this.track(docName, task)
  }

  /**
   * The deletion gate: runs before every room load (RoomRegistry `beforeLoad`) and every
   * read. Drops a local copy from before the cluster's last delete. If Redis cannot be asked,
   * the local copy is served (local editing never waits for Redis) and the gap is documented.
   */
  readonly gate = async (docName: string): Promise<void> => {
    await this.deleting.get(docName)
    if (!this.deps.relay.connected) return
    let clusterGeneration: number
    try {
      clusterGeneration = await this.deps.relay.docGeneration(docName)
    } catch (error) {
      this.deps.logger.warn(
        { doc: docName, err: error },
        'could not read the deletion generation; serving the local copy',
      )
      return
    }
    if (clusterGeneration === 0) return
    const local = await this.deps.store.generation(docName)
    if (local >= clusterGeneration) return
    await this.deps.store.deleteDoc(docName, clusterGeneration)
    this.deps.logger.info(
      { doc: docName, local, cluster: clusterGeneration },
      'dropped a local copy deleted while away',
    )
  }

  private async unloadHere(docName: string): Promise<number> {
    const closed = this.deps.closeClients(docName)
    // Waits for a load in flight too (RoomRegistry.unload), whose waiting connections joined
    // the room meanwhile: they are closed now, or they would stay on a destroyed room.
    await this.deps.registry.unload(docName)
    return closed + this.deps.closeClients(docName)
  }

  private track<T>(docName: string, task: Promise<T>): Promise<T> {
    const settled = task.catch(() => undefined) // waiters only need to know it ended; the caller gets the error
    this.deleting.set(docName, settled)
    void settled.then(() => {
      if (this.deleting.get(docName) === settled) this.deleting.delete(docName)
    })
    return task
  }
}
