/**
 * One open document on this instance: its Y.Doc, its presence (room-awareness.ts), the
 * connections editing it, and the wiring of every change to clients, storage and the relay.
 *
 * Update flow (fan-out.ts is the single fan-out point):
 *   client update  -> validated upstream -> size check -> receive(origin = connection), or,
 *                     for a big doc, applied in the big-doc worker (goesOffLoop)
 *   relay update   -> receive(origin = RELAY_ORIGIN), or the worker for a big doc
 *   receive        -> Y.applyUpdate, then fan out the bytes AS RECEIVED if they told the doc
 *                     anything (integrated, or held as pending structs / pending deletes)
 *   worker         -> the same, on the worker's Y.Doc (big-doc-session.ts); fanned out when
 *                     the worker answers, in the order it applied
 *   local change   -> the Y.Doc 'update' event -> fan out what the doc emitted
 *   fan out        -> other connections, the store, the relay (unless from it), the hooks
 * The doc is held live, encoded or in the worker (doc-holder.ts); reads work on each.
 * Why received bytes and not the doc's event: an update whose dependencies have not arrived
 * emits nothing (Yjs parks it in store.pendingStructs), and when the dependency arrives the
 * combined change carries the dependency's origin, so a relay-origin dependency would hide a
 * client's update from the relay forever. Yjs updates are idempotent, so storing and relaying
 * what was received converges in any order, across unloads, restarts and instances.
 * Nothing is sent before the document has loaded: a Room only exists once `open` resolved.
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { DocumentTooLargeError, ErrorCodes } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { ownsBuffer, receivedUpdateMessage } from '../protocol/message-bytes.js'
import { type ClientMessage, encodeAwareness, encodeSyncStep1 } from '../protocol/messages.js'
import { DETACHED_ROOM_RELAY, type RelaySink, type RoomRelay } from '../relay/relay.js'
import type { LoadedDoc } from '../storage/doc-store.js'
import { newDocGuid } from '../storage/server-doc.js'
import type { ValidateReply } from '../workers/big-doc-protocol.js'
import { type ApplyOutcome, type BigDocHosting, BigDocSession } from './big-doc-session.js'
import { ChangeHookQueue } from './change-hooks.js'
import { DocHolder } from './doc-holder.js'
import { DocSizeBudget } from './doc-size-budget.js'
import { FanOut } from './fan-out.js'
import { answerSyncStep1, type FirstSyncSource } from './first-sync.js'
import { UpdateReceiver } from './receive.js'
import { RoomAwareness } from './room-awareness.js'
import { API_ORIGIN, clientOrigin, RELAY_ORIGIN, type RoomConnection } from './room-connection.js'

import type { RoomChange, RoomDeps } from './room-deps.js'

export type { OutgoingType, RoomConnection } from './room-connection.js'
export type { RoomChange, RoomDeps } from './room-deps.js'

/** An update that would grow the document past MAX_DOC_BYTES (catalogued in errors.ts). */
export { DocumentTooLargeError }

/** Above this (bound on the) size a live doc is compacted from the log, on the worker pool. */
const LIVE_COMPACTION_MAX_BYTES = 1024 * 1024
/**
 * From this encoded size a doc that receives an update is moved to the big-doc worker and
 * stays there while it is used (doc-holder.ts): applying to, encoding or cutting a doc this
 * big costs the event loop milliseconds (5 MB: applyUpdate 18-114 ms, encode 50-220 ms).
 */
export const BIG_DOC_BYTES = 1024 * 1024
/** An update this big into a doc not live here goes to the worker whatever the doc's size. */
export const OFF_LOOP_UPDATE_BYTES = 256 * 1024
/**
 * A client's update this big is lent to the big-doc worker (its buffer handed over and back)
 * instead of copied; a smaller one costs microseconds to copy.
 */
const LEND_MIN_BYTES = 64 * 1024
/** An update with no structs and an empty delete set encodes as two zero varints. */
const EMPTY_UPDATE_BYTES = 2

export class Room implements RelaySink {
  /** The content, live or encoded (doc-holder.ts): the registry sweeps it, a direct connection pins it. */
  readonly content: DocHolder
  private readonly connections = new Set<RoomConnection>()
  private readonly presence: RoomAwareness
  private readonly fanOut: FanOut<RoomChange>
  private readonly firstSync: FirstSyncSource
  private readonly bigDocs: BigDocHosting | undefined
  /** Updates on their way through the big-doc worker (an unload waits for them). */
  private readonly offLoop = new Set<Promise<void>>()
  private readonly sizeBudget: DocSizeBudget
  private relay: RoomRelay = DETACHED_ROOM_RELAY
  private readonly receiver: UpdateReceiver
  private destroyed = false

  private constructor(
    readonly docName: string,
    private readonly deps: RoomDeps,
    private readonly logger: Logger,
    loaded: LoadedDoc,
    inWorker: BigDocSession | undefined,
  ) {
    // Held encoded (or a big doc in the worker): the Y.Doc is built when something needs it.
    this.content = new DocHolder(loaded.update, this.onDocUpdate, inWorker, loaded.stateVector)
    // Mutes exactly that listener while it applies a received update.
    this.receiver = new UpdateReceiver(this.onDocUpdate)
    // Presence only needs a client id: its own doc, so the room's content can be dropped.
    this.presence = new RoomAwareness(new Y.Doc({ guid: newDocGuid() }), {
      connections: this.connections,
      publish: (update) => this.relay.publishAwareness(update),
      onSpoof: () => deps.metrics.rejectedInputs.inc({ reason: 'awareness-spoof' }),
    })
    const sizeBudget = new DocSizeBudget(deps.maxDocBytes, loaded.update.byteLength, () =>
      this.content.byteLength(),
    )
    this.sizeBudget = sizeBudget
    this.fanOut = new FanOut<RoomChange>({
      docName,
      store: deps.store,
      connections: this.connections,
      relay: () => this.relay,
      changeHooks: deps.onChange && new ChangeHookQueue(deps.onChange),
      change: (update, origin) => ({ room: this, update, origin }),
      grew: (bytes) => sizeBudget.grew(bytes),
    })
    this.bigDocs = deps.workers?.bigDocs
    this.firstSync = {
      content: this.content,
      cutter: deps.workers,
      serves: (connection) => this.connections.has(connection) && !this.destroyed,
      logger,
    }
  }

  /** Loads the document from storage; the room is returned only once it is complete. */
  static async open(docName: string, deps: RoomDeps): Promise<Room> {
    let loaded = await deps.store.load(docName)
    const logger = deps.logger.child({ doc: docName })
    logger.debug({ bytes: loaded.update.byteLength, logEntries: loaded.logEntries }, 'document loaded')
    const host = deps.workers?.bigDocs
    let inWorker: BigDocSession | undefined
    if (host && loaded.update.byteLength >= BIG_DOC_BYTES) {
      // Its state vector and first syncs cost the doc's size: the worker does both.
      inWorker = await BigDocSession.load(host, docName, loaded.update).catch((error: unknown) => {
        logger.warn({ err: error }, 'the big-doc worker could not load the doc; held encoded')
        return undefined
      })
      // The loaded bytes were handed to the worker (detached here): its copy is the base,
      // or, if it failed, the doc is read again.
      if (inWorker) loaded = { ...loaded, update: inWorker.updates()[0]! }
      else if (loaded.update.byteLength === 0) loaded = await deps.store.load(docName)
    }
    return new Room(docName, deps, logger, loaded, inWorker)
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
    let merging: Promise<void> | undefined
    const hooks = this.fanOut.capture(() => {
      merging = this.act(connection, message)
    })
    return merging ?? hooks
  }

  /**
   * Validates a big client message on the big-doc worker when this room's doc is there (the
   * update goes there next anyway), handing the bytes over and back instead of cloning them
   * to the pool: undefined when the doc is not there (the caller uses the pool). `message`
   * must own its buffer (protocol/message-bytes.ts `ownsBuffer`) and is detached from the call on.
   */
  validateOnDocThread(message: Uint8Array): Promise<ValidateReply> | undefined {
    if (!this.bigDocs || this.destroyed || !this.content.remote || !ownsBuffer(message)) return undefined
    return this.bigDocs.validate(message)
  }

  /** Returns the worker's handling of an update, when it went there. */
  private act(connection: RoomConnection, message: ClientMessage): Promise<void> | undefined {
    switch (message.kind) {
      case 'sync-step1':
        answerSyncStep1(this.firstSync, connection, message.stateVector)
        return
      case 'sync-step2':
      case 'update':
        return this.applyClientUpdate(connection, message.update)
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

  private applyClientUpdate(connection: RoomConnection, update: Uint8Array): Promise<void> | undefined {
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
      connection.close(ErrorCodes.YWS_ERR_DOC_TOO_LARGE.close)
      return
    }
    if (this.goesOffLoop(update.byteLength)) {
      // Counted now: a second big update must not pass the limit while this one is applied.
      this.sizeBudget.grew(update.byteLength)
      return this.applyOffLoop(update, connection)
    }
    this.receiveFrom(connection, update)
    return undefined
  }

  /**
   * Whether an update of `updateBytes` is applied in the big-doc worker: always while the doc
   * is there; else when the doc may move (doc-holder.ts `movable`) and doc plus update reach
   * BIG_DOC_BYTES, or a big update comes into a doc not live here (it would be built for it).
   */
  private goesOffLoop(updateBytes: number): boolean {
    const content = this.content
    if (content.remote) return true
    if (!this.bigDocs || !content.movable || this.destroyed) return false
    const encoded = content.encodedDoc
    if (encoded)
      return updateBytes >= OFF_LOOP_UPDATE_BYTES || encoded.update.byteLength + updateBytes >= BIG_DOC_BYTES
    if (this.sizeBudget.bound + updateBytes < BIG_DOC_BYTES) return false
    // The bound counts every update since the doc was built; measure before moving a doc that
    // may be far smaller (one encode here, then not again for BIG_DOC_BYTES of updates).
    return this.sizeBudget.remeasure() + updateBytes >= BIG_DOC_BYTES
  }

  /**
   * Applies `update` on the worker; fans it out, as receive does, once the worker has it.
   * `retry`: a relayed update whose thread died is applied once more (see settleOffLoop).
   */
  private applyOffLoop(
    update: Uint8Array,
    origin: RoomConnection | typeof RELAY_ORIGIN,
    retry = origin === RELAY_ORIGIN,
  ): Promise<void> {
    const session = this.content.toWorker(this.bigDocs!, this.docName)
    // A client's big update is lent to the worker, not copied (see BigDocHosting.apply): it
    // is needed again only once the worker hands it back. A relayed one is copied: if the
    // thread dies it is applied again (below), so it must still be here.
    const lend = origin !== RELAY_ORIGIN && update.byteLength >= LEND_MIN_BYTES
    const task = session
      .apply(update, lend)
      .then((outcome) =>
        this.settleOffLoop('update' in outcome ? outcome.update : update, origin, outcome, retry),
      )
    const tracked = task.catch((error: unknown) =>
      this.logger.error({ err: error }, 'an update through the big-doc worker failed'),
    )
    this.offLoop.add(tracked)
    void tracked.then(() => this.offLoop.delete(tracked))
    return task
  }

  /** Returns the change hooks of what it fanned out, if any run. */
  private settleOffLoop(
    update: Uint8Array,
    origin: RoomConnection | typeof RELAY_ORIGIN,
    outcome: ApplyOutcome,
    retry: boolean,
  ): Promise<void> | undefined {
    const connection = origin === RELAY_ORIGIN ? undefined : origin
    if (outcome.kind === 'ended') {
      // The doc was built here meanwhile, without this update: apply it there, as any update.
      return this.fanOut.capture(() => {
        if (connection) this.receiveFrom(connection, update)
        else this.receiveFromRelay(update)
      })
    }
    if (outcome.kind === 'failed' && retry) {
      // A relayed update has no sender to resync it, and the relay has moved past its entry:
      // dropped here, this instance's clients and disk would never get it. The session opens
      // its doc again on a new thread (base + pending), so try once more; a second failure
      // (an update that kills every thread) is logged below.
      this.logger.warn(
        { err: outcome.error },
        'the big-doc worker failed; applying the relayed update on a new thread',
      )
      return this.applyOffLoop(update, origin, false)
    }
    if (outcome.kind === 'failed') {
      // Nothing was applied or sent; a client resyncs when it reconnects.
      this.logger.error({ conn: connection?.id, err: outcome.error }, 'the big-doc worker failed')
      connection?.close('internalError')
      return undefined
    }
    const reply = outcome.reply
    // A client's change is the client's even if it left while the worker had it.
    const hookOrigin = connection && clientOrigin(connection)
    return this.fanOut.capture(() => {
      if (reply.integrated) this.fanOut.send(reply.integrated, origin, hookOrigin)
      if (reply.error !== undefined) {
        if (connection) this.refuse(connection, reply.error)
        else this.logger.warn({ err: reply.error }, 'relayed update failed to apply')
        return
      }
      if (reply.told) this.fanOut.send(update, origin, hookOrigin, receivedUpdateMessage(update))
    })
  }

  private receiveFrom(connection: RoomConnection, update: Uint8Array): void {
    try {
      this.receive(update, connection)
    } catch (error) {
      this.refuse(connection, error)
    }
  }

  /** The update decoded (it was validated) but Yjs could not integrate it. */
  private refuse(connection: RoomConnection, error: unknown): void {
    this.logger.warn({ conn: connection.id, err: error }, 'update failed to apply')
    this.deps.metrics.rejectedInputs.inc({ reason: 'apply-failed' })
    connection.close(ErrorCodes.YWS_ERR_BAD_UPDATE.close)
  }

  /** Resolves once the updates on their way through the worker are fanned out (before an unload). */
  async settled(): Promise<void> {
    while (this.offLoop.size > 0) await Promise.all(this.offLoop)
  }

  /** See receive.ts; the received bytes are fanned out when they told the doc anything. */
  private receive(
    update: Uint8Array,
    origin: RoomConnection | typeof RELAY_ORIGIN | typeof API_ORIGIN,
  ): void {
    // The step 2 every client answers our step 1 with, when it has nothing we lack: no need
    // to build an encoded doc's Y.Doc for it.
    if (update.byteLength === EMPTY_UPDATE_BYTES && update[0] === 0 && update[1] === 0) return
    const told = this.receiver.apply(this.content.doc, update, origin, (part) =>
      this.fanOut.send(part, origin),
    )
    if (told) this.fanOut.send(update, origin)
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

  /** A change made on the doc itself (a direct connection, a seeding hook): fanned out as emitted. */
  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    this.fanOut.send(update, origin)
  }

  // RelaySink

  applyRemoteUpdate(update: Uint8Array): void {
    if (this.destroyed) return
    if (this.goesOffLoop(update.byteLength)) void this.applyOffLoop(update, RELAY_ORIGIN)
    else this.receive(update, RELAY_ORIGIN)
  }

  /** A relayed update whose worker session ended: applied here (what receive throws is logged). */
  private receiveFromRelay(update: Uint8Array): void {
    try {
      this.receive(update, RELAY_ORIGIN)
    } catch (error) {
      this.logger.warn({ err: error }, 'relayed update failed to apply')
    }
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
  compactionState(): Uint8Array | Promise<Uint8Array | undefined> | undefined {
    if (this.destroyed) return undefined
    const remote = this.content.remote
    if (remote) {
      // Encoded on the worker, with every update accepted so far (and maybe a few more: the
      // store keeps the entries after its cut, and updates are idempotent).
      return remote.snapshot().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'big-doc snapshot failed; compacting from the log')
        return undefined
      })
    }
    return (
      this.content.encodedDoc?.update ??
      (this.sizeBudget.bound <= LIVE_COMPACTION_MAX_BYTES
        ? Y.encodeStateAsUpdate(this.content.doc)
        : undefined)
    )
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
