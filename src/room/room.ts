/**
 * One open document on this instance: its Y.Doc and Awareness (owned by composition), the
 * connections editing it, and the wiring of every change to clients, storage and the relay.
 *
 * Update flow (`fanOut` is the single fan-out point):
 *   client update  -> validated upstream -> size check -> receive(origin = connection)
 *   relay update   -> receive(origin = RELAY_ORIGIN)
 *   receive        -> Y.applyUpdate, then fanOut(the bytes AS RECEIVED) if they told the doc
 *                     anything (integrated, or held as pending structs / pending deletes)
 *   local change   -> the Y.Doc 'update' event -> fanOut(what the doc emitted)
 *   fanOut         -> every other connection, the store (always), the relay (unless it came
 *                     from the relay: no echo loops)
 * Why received bytes and not the doc's event: an update whose dependencies have not arrived
 * emits nothing (Yjs parks it in store.pendingStructs), and when the dependency arrives the
 * combined change carries the dependency's origin, so a relay-origin dependency would hide a
 * client's update from the relay forever. Yjs updates are idempotent, so storing and relaying
 * what was received converges in any order, across unloads, restarts and instances.
 * Nothing is sent before the document has loaded: a Room only exists once `open` resolved.
 */
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { ChangeOrigin, HookUser } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { CloseCodeName } from '../protocol/close-codes.js'
import {
  type AwarenessEntry,
  type ClientMessage,
  encodeAwareness,
  encodeAwarenessEntries,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
} from '../protocol/messages.js'
import type { RelaySink, RoomRelay } from '../relay/relay.js'
import type { DocStore } from '../storage/doc-store.js'
import { judgeAwarenessEntry } from './awareness-ownership.js'
import { encodeStateAsUpdatePieces } from './split-update.js'

/** The room's view of a client connection; transport details stay in the transport layer. */
export interface RoomConnection {
  readonly id: string
  readonly readOnly: boolean
  /** Who this is, for hooks (`origin.user` of its changes). */
  readonly user?: HookUser | undefined
  /** The token's `sub`, if any: a user may take over presence only from its own connections. */
  readonly subject?: string | undefined
  /**
   * Awareness client ids whose current state this connection published (removed everywhere
   * when it leaves). Maintained by the room from states that actually applied.
   */
  readonly awarenessIds: Set<number>
  send(message: Uint8Array, type: OutgoingType): void
  /**
   * Sends `messages` in order, each once the previous one left the process, outside the
   * slow-client budget (the first sync: bounded by the doc, not by the client's speed).
   * Optional: without it the room falls back on `send`.
   */
  sendPaced?(messages: readonly Uint8Array[], type: OutgoingType): void
  close(code: CloseCodeName, detail?: string): void
}

export type OutgoingType = 'sync-step1' | 'sync-step2' | 'update' | 'awareness'

export const RELAY_ORIGIN = Symbol('relay')
/** Changes made through a direct connection (`openDirectConnection`): origin kind `server`. */
export const SERVER_ORIGIN = Symbol('server')
/** Origin of updates from the admin document API and imports (hook origin kind `api`). */
export const API_ORIGIN = Symbol('api')

/** An update that would grow the document past MAX_DOC_BYTES; nothing was applied. */
export class DocumentTooLargeError extends Error {
  override name = 'DocumentTooLargeError'
}
const LOAD_ORIGIN = Symbol('load')
/**
 * Largest piece of a first sync. A slow link must finish one message well within the stock
 * client's 30 s silence timeout: 256 KiB takes 6.5 s at 40 kB/s.
 */
export const FIRST_SYNC_PIECE_BYTES = 256 * 1024
/** An update with no structs and an empty delete set encodes as two zero varints. */
const EMPTY_UPDATE_BYTES = 2

export interface RoomDeps {
  readonly store: DocStore
  readonly metrics: Metrics
  readonly logger: Logger
  readonly maxDocBytes: number
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
  readonly doc = new Y.Doc({ gc: true })
  readonly awareness = new Awareness(this.doc)
  private readonly connections = new Set<RoomConnection>()
  /** Awareness client id -> the local connection whose applied state holds it. */
  private readonly awarenessOwners = new Map<number, RoomConnection>()
  private relay: RoomRelay | undefined
  /**
   * Upper bound on the doc's encoded size: loaded size plus every update applied since.
   * Recomputed exactly (one full encode) only when it nears the limit.
   */
  private approxBytes = 0
  /** While `receive` applies an update: what the doc emitted meanwhile (not fanned out). */
  private receiving: Uint8Array[] | undefined
  private destroyed = false
  /** The change hooks still running or waiting, in order (undefined when idle). */
  private changeHooks: Promise<void> | undefined
  /** Set while a message is handled: the hooks of the change it caused. */
  private messageHooks: Promise<void> | undefined

  private constructor(
    readonly docName: string,
    private readonly deps: RoomDeps,
    private readonly logger: Logger,
  ) {
    // The server is not a collaborator: it publishes no awareness state of its own.
    this.awareness.setLocalState(null)
    this.doc.on('update', this.onDocUpdate)
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /** Loads the document from storage; the room is returned only once it is complete. */
  static async open(docName: string, deps: RoomDeps): Promise<Room> {
    const room = new Room(docName, deps, deps.logger.child({ doc: docName }))
    try {
      const loaded = await deps.store.load(docName)
      Y.applyUpdate(room.doc, loaded.update, LOAD_ORIGIN)
      room.approxBytes = loaded.update.byteLength
      room.logger.debug({ bytes: loaded.update.byteLength, logEntries: loaded.logEntries }, 'document loaded')
      return room
    } catch (error) {
      await room.destroy()
      throw error
    }
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
    connection.send(encodeSyncStep1(Y.encodeStateVector(this.doc)), 'sync-step1')
    if (this.awareness.getStates().size > 0) {
      const update = encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])
      connection.send(encodeAwareness(update), 'awareness')
    }
  }

  removeConnection(connection: RoomConnection): void {
    if (!this.connections.delete(connection)) return
    if (connection.awarenessIds.size > 0 && !this.destroyed) {
      // Removes every state this connection controlled, here and (via the relay) everywhere.
      removeAwarenessStates(this.awareness, [...connection.awarenessIds], connection)
    }
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
        this.sendFirstSync(connection, message.stateVector)
        return
      case 'sync-step2':
      case 'update':
        this.applyClientUpdate(connection, message.update)
        return
      case 'awareness':
        this.applyClientAwareness(connection, message.update, message.entries)
        return
      case 'query-awareness': {
        const update = encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])
        connection.send(encodeAwareness(update), 'awareness')
        return
      }
      case 'ignored':
        return
    }
  }

  /**
   * Applies the entries a connection may speak for (see awareness-ownership.ts): echoes of
   * others' states are dropped silently, a returning client is asked to re-announce with a
   * newer clock, and only a real attempt to move another user's state counts as spoofing.
   */
  private applyClientAwareness(
    connection: RoomConnection,
    update: Uint8Array,
    entries: readonly AwarenessEntry[],
  ): void {
    const accepted: AwarenessEntry[] = []
    const reannounce: AwarenessEntry[] = []
    const meta = this.awareness.meta
    for (const entry of entries) {
      const owner = this.awarenessOwners.get(entry.clientId)
      const verdict = judgeAwarenessEntry(entry, connection, {
        owner: owner && { subject: owner.subject, isSender: owner === connection },
        clock: meta.get(entry.clientId)?.clock,
        held: this.awareness.states.has(entry.clientId),
      })
      if (verdict === 'apply' || verdict === 'apply-and-reannounce') accepted.push(entry)
      if (verdict === 'reannounce' || verdict === 'apply-and-reannounce') {
        reannounce.push({ clientId: entry.clientId, clock: entry.clock, state: null })
      }
      if (verdict === 'spoof') this.deps.metrics.rejectedInputs.inc({ reason: 'awareness-spoof' })
    }
    if (accepted.length > 0) {
      // Ownership follows what applies: see trackAwarenessOwners.
      const applicable = accepted.length === entries.length ? update : encodeAwarenessEntries(accepted)
      applyAwarenessUpdate(this.awareness, applicable, connection)
    }
    if (reannounce.length > 0) {
      // Sent after the apply's broadcast, so the client bumps past the clock it just saw.
      connection.send(encodeAwareness(encodeAwarenessEntries(reannounce)), 'awareness')
    }
  }

  /** Records which local connection holds each id, from the changes that really applied. */
  private trackAwarenessOwners(
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void {
    const publisher = this.connections.has(origin as RoomConnection) ? (origin as RoomConnection) : undefined
    for (const id of [...change.added, ...change.updated]) {
      const previous = this.awarenessOwners.get(id)
      if (previous === publisher) continue
      previous?.awarenessIds.delete(id)
      // A state from the relay (or the server) is owned by no local connection.
      if (publisher) {
        publisher.awarenessIds.add(id)
        this.awarenessOwners.set(id, publisher)
      } else {
        this.awarenessOwners.delete(id)
      }
    }
    for (const id of change.removed) {
      this.awarenessOwners.get(id)?.awarenessIds.delete(id)
      this.awarenessOwners.delete(id)
    }
  }

  /**
   * Answers a sync step 1 with exactly what the client lacks, in pieces of at most
   * FIRST_SYNC_PIECE_BYTES (split-update.ts) so a big doc keeps a slow link busy with
   * messages and never has to fit the send budget at once. The pieces go as updates and the
   * last (the delete set) as the sync step 2: y-websocket marks a provider synced on step 2.
   */
  private sendFirstSync(connection: RoomConnection, stateVector: Uint8Array): void {
    const pieces = encodeStateAsUpdatePieces(this.doc, stateVector, FIRST_SYNC_PIECE_BYTES)
    const messages = pieces.map((piece, index) =>
      index === pieces.length - 1 ? encodeSyncStep2(piece) : encodeUpdate(piece),
    )
    if (pieces.length > 1) {
      this.logger.debug({ conn: connection.id, pieces: pieces.length }, 'first sync in pieces')
    }
    if (connection.sendPaced) connection.sendPaced(messages, 'sync-step2')
    else for (const message of messages) connection.send(message, 'sync-step2')
  }

  private applyClientUpdate(connection: RoomConnection, update: Uint8Array): void {
    if (connection.readOnly) {
      // Every client answers our sync step 1 with a step 2, usually empty ([0, 0]): only
      // count real edits. Nothing from a read-only connection is ever applied.
      if (update.byteLength > EMPTY_UPDATE_BYTES) this.deps.metrics.readOnlyUpdatesDropped.inc()
      return
    }
    if (!this.fitsSizeLimit(update.byteLength)) {
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
    const store = this.doc.store
    const pendingStructs = store.pendingStructs
    const pendingDs = store.pendingDs
    const emitted: Uint8Array[] = []
    this.receiving = emitted
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch (error) {
      for (const part of emitted) this.fanOut(part, origin)
      throw error
    } finally {
      this.receiving = undefined
    }
    const heldPending = store.pendingStructs !== pendingStructs || store.pendingDs !== pendingDs
    if (emitted.length > 0 || heldPending) this.fanOut(update, origin)
  }

  /**
   * Applies a validated update from the document API: broadcast, stored and relayed like a
   * client's edit.
   * @throws DocumentTooLargeError when it would grow the doc past MAX_DOC_BYTES (nothing applied)
   */
  applyApiUpdate(update: Uint8Array): void {
    if (!this.fitsSizeLimit(update.byteLength)) {
      this.deps.metrics.docTooLarge.inc()
      throw new DocumentTooLargeError(
        `the update would grow the document past MAX_DOC_BYTES (${this.deps.maxDocBytes})`,
      )
    }
    this.receive(update, API_ORIGIN)
  }

  private fitsSizeLimit(incomingBytes: number): boolean {
    const limit = this.deps.maxDocBytes
    if (this.approxBytes + incomingBytes <= limit) return true
    // The running total only grows; measure for real before refusing anything.
    this.approxBytes = Y.encodeStateAsUpdate(this.doc).byteLength
    return this.approxBytes + incomingBytes <= limit
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === LOAD_ORIGIN) return
    if (this.receiving) {
      // `receive` fans out the received bytes instead (see the header).
      this.receiving.push(update)
      return
    }
    this.fanOut(update, origin)
  }

  /** Sends one change to the room's other clients, the store, and (unless relayed) the relay. */
  private fanOut(update: Uint8Array, origin: unknown): void {
    this.approxBytes += update.byteLength
    const message = encodeUpdate(update)
    for (const connection of this.connections) {
      if (connection !== origin) connection.send(message, 'update')
    }
    this.deps.store.append(this.docName, update)
    if (origin !== RELAY_ORIGIN) this.relay?.publishUpdate(update)
    this.reportChange(update, origin)
  }

  /** Queues the change hooks behind the ones still running (see RoomDeps.onChange). */
  private reportChange(update: Uint8Array, origin: unknown): void {
    if (!this.deps.onChange) return
    const change: RoomChange = { room: this, update, origin: this.changeOrigin(origin) }
    const previous = this.changeHooks
    const hooks = previous ? previous.then(() => this.deps.onChange?.(change)) : this.deps.onChange(change)
    if (!hooks) return
    this.changeHooks = hooks
    this.messageHooks = hooks
    void hooks.then(() => {
      if (this.changeHooks === hooks) this.changeHooks = undefined
    })
  }

  private changeOrigin(origin: unknown): ChangeOrigin {
    if (origin === RELAY_ORIGIN) return { kind: 'relay' }
    if (origin === API_ORIGIN) return { kind: 'api' }
    if (typeof origin === 'object' && origin !== null && this.connections.has(origin as RoomConnection)) {
      const user = (origin as RoomConnection).user
      return user ? { kind: 'client', user } : { kind: 'client' }
    }
    // SERVER_ORIGIN, or a change made directly on the doc (onLoadDocument seeding it).
    return { kind: 'server' }
  }

  private readonly onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...change.added, ...change.updated, ...change.removed]
    if (changed.length === 0) return
    this.trackAwarenessOwners(change, origin)
    const update = encodeAwarenessUpdate(this.awareness, changed)
    const message = encodeAwareness(update)
    // Echoed to the sender too: stock clients treat 30 s without any message as a dead
    // connection, and their 15 s awareness renewal coming back is what keeps idle ones alive.
    for (const connection of this.connections) connection.send(message, 'awareness')
    // Timeouts are not relayed: every instance expires a silent state by itself (this is also
    // how a dead instance's clients disappear everywhere), so relaying would only multiply.
    if (origin !== RELAY_ORIGIN && origin !== 'timeout') this.relay?.publishAwareness(update)
  }

  // RelaySink

  applyRemoteUpdate(update: Uint8Array): void {
    if (this.destroyed) return
    this.receive(update, RELAY_ORIGIN)
  }

  applyRemoteAwareness(update: Uint8Array): void {
    if (this.destroyed) return
    applyAwarenessUpdate(this.awareness, update, RELAY_ORIGIN)
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  encodeLocalAwareness(): Uint8Array | undefined {
    const states = this.awareness.getStates()
    const ids: number[] = []
    for (const connection of this.connections) {
      for (const id of connection.awarenessIds) if (states.has(id)) ids.push(id)
    }
    return ids.length > 0 ? encodeAwarenessUpdate(this.awareness, ids) : undefined
  }

  /** Frees the document; the caller has flushed and detached the relay. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    const relay = this.relay
    this.relay = undefined
    this.doc.off('update', this.onDocUpdate)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
    await relay?.leave()
  }
}
