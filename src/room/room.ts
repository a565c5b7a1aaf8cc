/**
 * One open document on this instance: its Y.Doc, its presence (room-awareness.ts), the
 * connections editing it, and the wiring of every change to clients, storage and the relay.
 *
 * Update flow (`fanOut` is the single fan-out point):
 *   client update  -> validated upstream -> size check -> receive(origin = connection)
 *   relay update   -> receive(origin = RELAY_ORIGIN)
 *   receive        -> Y.applyUpdate, then fanOut(the bytes AS RECEIVED) if they told the doc
 *                     anything (integrated, or held as pending structs / pending deletes)
 *   local change   -> the Y.Doc 'update' event -> fanOut(what the doc emitted)
 *   fanOut         -> every other connection, the store (always), the relay (unless it came
 *                     from the relay: no echo loops), the change hooks (change-hooks.ts)
 * Why received bytes and not the doc's event: an update whose dependencies have not arrived
 * emits nothing (Yjs parks it in store.pendingStructs), and when the dependency arrives the
 * combined change carries the dependency's origin, so a relay-origin dependency would hide a
 * client's update from the relay forever. Yjs updates are idempotent, so storing and relaying
 * what was received converges in any order, across unloads, restarts and instances.
 * Nothing is sent before the document has loaded: a Room only exists once `open` resolved.
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { DocumentTooLargeError } from '../errors.js'
import type { ChangeOrigin } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { type ClientMessage, encodeAwareness, encodeSyncStep1, encodeUpdate } from '../protocol/messages.js'
import { DETACHED_ROOM_RELAY, type RelaySink, type RoomRelay } from '../relay/relay.js'
import type { DocStore } from '../storage/doc-store.js'
import { ChangeHookQueue } from './change-hooks.js'
import { DocHolder } from './doc-holder.js'
import { DocSizeBudget } from './doc-size-budget.js'
import { answerSyncStep1, type FirstSyncCutter, type FirstSyncSource } from './first-sync.js'
import { RoomAwareness } from './room-awareness.js'
import { API_ORIGIN, changeOriginOf, RELAY_ORIGIN, type RoomConnection } from './room-connection.js'

export { FIRST_SYNC_PIECE_BYTES } from './first-sync.js'
export {
  API_ORIGIN,
  type OutgoingType,
  RELAY_ORIGIN,
  type RoomConnection,
  SERVER_ORIGIN,
} from './room-connection.js'

/** An update that would grow the document past MAX_DOC_BYTES (catalogued in errors.ts). */
export { DocumentTooLargeError }

/** Above this (bound on the) size a live doc is compacted from the log, on the worker pool. */
const LIVE_COMPACTION_MAX_BYTES = 1024 * 1024
/** An update with no structs and an empty delete set encodes as two zero varints. */
const EMPTY_UPDATE_BYTES = 2

export interface RoomDeps {
  readonly store: DocStore
  readonly metrics: Metrics
  readonly logger: Logger
  readonly maxDocBytes: number
  /** Cuts a big encoded doc's first sync off the event loop; without it the doc is built here. */
  readonly firstSyncCutter?: FirstSyncCutter | undefined
  /**
   * Told about every change the room fans out, with the update as received. A returned
   * promise is the change's hooks; the room chains them so they run one at a time in the
   * order the doc accepted the changes, and hands a client's to its connection (which
   * waits for it before its next message).
   */
  readonly onChange?: ((change: RoomChange) => Promise<void> | undefined) | undefined
}

/** One change the room accepted, as the change hooks see it. */
export interface RoomChange {
  readonly room: Room
  readonly update: Uint8Array
  readonly origin: ChangeOrigin
}

export class Room implements RelaySink {
  /** The content, live or encoded (doc-holder.ts): the registry sweeps it, a direct connection pins it. */
  readonly content: DocHolder
  private readonly connections = new Set<RoomConnection>()
  private readonly presence: RoomAwareness
  private readonly changeHooks: ChangeHookQueue<RoomChange> | undefined
  private readonly firstSync: FirstSyncSource
  private readonly sizeBudget: DocSizeBudget
  private relay: RoomRelay = DETACHED_ROOM_RELAY
  /** While `receive` applies an update: what the doc emitted meanwhile (not fanned out). */
  private receiving: Uint8Array[] | undefined
  private destroyed = false
  /** Set while a message is handled: the hooks of the change it caused. */
  private messageHooks: Promise<void> | undefined

  private constructor(
    readonly docName: string,
    private readonly deps: RoomDeps,
    private readonly logger: Logger,
    loaded: Uint8Array,
  ) {
    // Held encoded: the Y.Doc is built when something needs it.
    this.content = new DocHolder(loaded, this.onDocUpdate)
    // Presence only needs a client id: its own doc, so the room's content can be dropped.
    this.presence = new RoomAwareness(new Y.Doc(), {
      connections: this.connections,
      publish: (update) => this.relay.publishAwareness(update),
      onSpoof: () => deps.metrics.rejectedInputs.inc({ reason: 'awareness-spoof' }),
    })
    this.changeHooks = deps.onChange && new ChangeHookQueue(deps.onChange)
    this.sizeBudget = new DocSizeBudget(deps.maxDocBytes, loaded.byteLength, () => this.content.byteLength())
    this.firstSync = {
      content: this.content,
      cutter: deps.firstSyncCutter,
      serves: (connection) => this.connections.has(connection) && !this.destroyed,
      logger,
    }
  }

  /** Loads the document from storage; the room is returned only once it is complete. */
  static async open(docName: string, deps: RoomDeps): Promise<Room> {
    const loaded = await deps.store.load(docName)
    const logger = deps.logger.child({ doc: docName })
    logger.debug({ bytes: loaded.update.byteLength, logEntries: loaded.logEntries }, 'document loaded')
    return new Room(docName, deps, logger, loaded.update)
  }

  /** The live Y.Doc (built from the encoded state if the room held it encoded). */
  get doc(): Y.Doc {
    return this.content.doc
  }

  get awareness(): Awareness {
    return this.presence.awareness
  }

  get connectionCount(): number {
    return this.connections.size
  }

  attachRelay(relay: RoomRelay): void {
    this.relay = relay
  }

  /** Starts the y-websocket handshake: our state vector, then who else is here. */
  addConnection(connection: RoomConnection): void {
    this.connections.add(connection)
    connection.send(encodeSyncStep1(this.content.stateVector()), 'sync-step1')
    const present = this.presence.encodeAll()
    if (present) connection.send(encodeAwareness(present), 'awareness')
  }

  removeConnection(connection: RoomConnection): void {
    if (!this.connections.delete(connection)) return
    if (!this.destroyed) this.presence.removeConnection(connection)
  }

  /**
   * Acts on one validated client message. Returns the change hooks of the update it carried,
   * when there are any, so the connection can hold its next message until they finished.
   */
  handleMessage(connection: RoomConnection, message: ClientMessage): Promise<void> | undefined {
    this.messageHooks = undefined
    this.act(connection, message)
    const hooks = this.messageHooks
    this.messageHooks = undefined
    return hooks
  }

  private act(connection: RoomConnection, message: ClientMessage): void {
    switch (message.kind) {
      case 'sync-step1':
        answerSyncStep1(this.firstSync, connection, message.stateVector)
        return
      case 'sync-step2':
      case 'update':
        this.applyClientUpdate(connection, message.update)
        return
      case 'awareness':
        this.presence.applyFromClient(connection, message.update, message.entries)
        return
      case 'query-awareness':
        this.presence.answerQuery(connection)
        return
      case 'ignored':
        return
    }
  }

  private applyClientUpdate(connection: RoomConnection, update: Uint8Array): void {
    if (connection.readOnly) {
      // Every client answers our sync step 1 with a step 2, usually empty ([0, 0]): only
      // count real edits. Nothing from a read-only connection is ever applied.
      if (update.byteLength > EMPTY_UPDATE_BYTES) this.deps.metrics.readOnlyUpdatesDropped.inc()
      return
    }
    if (!this.sizeBudget.fits(update.byteLength)) {
      this.deps.metrics.docTooLarge.inc()
      this.logger.warn(
        { conn: connection.id, updateBytes: update.byteLength, limit: this.deps.maxDocBytes },
        'update refused: document would exceed MAX_DOC_BYTES',
      )
      connection.close('documentTooLarge')
      return
    }
    try {
      this.receive(update, connection)
    } catch (error) {
      // The update decoded (it was validated) but Yjs could not integrate it.
      this.logger.warn({ conn: connection.id, err: error }, 'update failed to apply')
      this.deps.metrics.rejectedInputs.inc({ reason: 'apply-failed' })
      connection.close('protocolError')
    }
  }

  /**
   * Applies an update that came from outside (a client or the relay) and fans out exactly
   * the received bytes when they changed the doc or its pending state. Duplicates (a
   * reconnecting client's full delete set, an entry already applied) change neither and are
   * not stored again. Throws what Y.applyUpdate throws; whatever Yjs did integrate before
   * throwing is still fanned out (as the doc emitted it), the unusable bytes are not.
   */
  private receive(
    update: Uint8Array,
    origin: RoomConnection | typeof RELAY_ORIGIN | typeof API_ORIGIN,
  ): void {
    // The step 2 every client answers our step 1 with, when it has nothing we lack: no need
    // to build an encoded doc's Y.Doc for it.
    if (update.byteLength === EMPTY_UPDATE_BYTES && update[0] === 0 && update[1] === 0) return
    const store = this.content.doc.store
    const pendingStructs = store.pendingStructs
    // Yjs merges newly parked structs into the existing pendingStructs object in place (only
    // its `update` is replaced), so the object's identity alone misses a second parked update.
    const pendingUpdate = pendingStructs?.update
    const pendingDs = store.pendingDs
    const emitted: Uint8Array[] = []
    this.receiving = emitted
    try {
      Y.applyUpdate(this.content.doc, update, origin)
    } catch (error) {
      for (const part of emitted) this.fanOut(part, origin)
      throw error
    } finally {
      this.receiving = undefined
    }
    const heldPending =
      store.pendingStructs !== pendingStructs ||
      store.pendingStructs?.update !== pendingUpdate ||
      store.pendingDs !== pendingDs
    if (emitted.length > 0 || heldPending) this.fanOut(update, origin)
  }

  /**
   * Applies a validated update from the document API: broadcast, stored and relayed like a
   * client's edit.
   * @throws DocumentTooLargeError when it would grow the doc past MAX_DOC_BYTES (nothing applied)
   */
  applyApiUpdate(update: Uint8Array): void {
    if (!this.sizeBudget.fits(update.byteLength)) {
      this.deps.metrics.docTooLarge.inc()
      throw new DocumentTooLargeError(
        `the update would grow the document past MAX_DOC_BYTES (${this.deps.maxDocBytes})`,
      )
    }
    this.receive(update, API_ORIGIN)
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.receiving) {
      // `receive` fans out the received bytes instead (see the header).
      this.receiving.push(update)
      return
    }
    this.fanOut(update, origin)
  }

  /** Sends one change to the room's other clients, the store, the relay and the hooks. */
  private fanOut(update: Uint8Array, origin: unknown): void {
    this.sizeBudget.grew(update.byteLength)
    const message = encodeUpdate(update)
    for (const connection of this.connections) {
      if (connection !== origin) connection.send(message, 'update')
    }
    this.deps.store.append(this.docName, update)
    if (origin !== RELAY_ORIGIN) this.relay.publishUpdate(update)
    if (this.changeHooks) {
      const hooks = this.changeHooks.report({
        room: this,
        update,
        origin: changeOriginOf(origin, this.connections),
      })
      if (hooks) this.messageHooks = hooks
    }
  }

  // RelaySink

  applyRemoteUpdate(update: Uint8Array): void {
    if (this.destroyed) return
    this.receive(update, RELAY_ORIGIN)
  }

  applyRemoteAwareness(update: Uint8Array): void {
    if (this.destroyed) return
    this.presence.applyFromRelay(update)
  }

  stateVector(): Uint8Array {
    return this.content.stateVector()
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return this.content.encodeStateAsUpdate(stateVector)
  }

  /**
   * The doc's state for the store to compact from (storage/live-state.ts): free when held encoded,
   * one encode of a live doc up to LIVE_COMPACTION_MAX_BYTES; a bigger live doc is left to
   * the worker pool's compaction from the log (its encode would stall the event loop).
   */
  compactionState(): Uint8Array | undefined {
    if (this.destroyed) return undefined
    const encoded = this.content.encodedDoc
    if (encoded) return encoded.update
    return this.sizeBudget.bound <= LIVE_COMPACTION_MAX_BYTES
      ? Y.encodeStateAsUpdate(this.content.doc)
      : undefined
  }

  encodeLocalAwareness(): Uint8Array | undefined {
    return this.presence.encodeLocal()
  }

  /** Frees the document; the caller has flushed and detached the relay. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    const relay = this.relay
    this.relay = DETACHED_ROOM_RELAY
    this.content.destroy()
    this.presence.destroy()
    await relay.leave()
  }
}
