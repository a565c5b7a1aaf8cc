/**
 * A server-side editor of one document (`openDirectConnection`): it holds the room open like
 * a client connection does, and its changes take the same path as a client's — broadcast to
 * every client, stored, relayed to other instances — with origin kind `server`.
 */
import type * as Y from 'yjs'
import { YwsError } from '../errors.js'
import type { DocStore } from '../storage/doc-store.js'
import type { Room } from './room.js'
import { SERVER_ORIGIN } from './room-connection.js'
import type { RoomRegistry } from './room-registry.js'

/** A server-side editor of one document. */
export interface DirectConnection {
  readonly docName: string
  /**
   * The live document, to read. Change it only inside `transact`: that is what marks the
   * change as the server's. Throws YWS_ERR_DISCONNECTED after `disconnect()`.
   */
  readonly doc: Y.Doc
  /**
   * Runs `change` in one Yjs transaction; resolves with its result once the change has been
   * sent to every client, handed to the relay and written to this instance's disk.
   * @throws YwsError YWS_ERR_DISCONNECTED after `disconnect()`; whatever `change` throws.
   */
  transact<T>(change: (doc: Y.Doc) => T): Promise<T>
  /** Lets the document unload when nobody else holds it. Safe to call twice. */
  disconnect(): Promise<void>
}

export class RoomDirectConnection implements DirectConnection {
  readonly docName: string
  private room: Room | undefined

  constructor(
    room: Room,
    private readonly registry: RoomRegistry,
    private readonly store: DocStore,
    private readonly onDisconnected: (connection: RoomDirectConnection) => void,
  ) {
    this.room = room
    this.docName = room.docName
    // Its reader may hold on to `doc`: the room keeps that Y.Doc live while connected.
    room.content.pin()
  }

  get doc(): Y.Doc {
    return this.live().doc
  }

  async transact<T>(change: (doc: Y.Doc) => T): Promise<T> {
    const room = this.live()
    let result: T | undefined
    room.doc.transact((transaction) => {
      result = change(transaction.doc)
    }, SERVER_ORIGIN)
    // Appended to the store's queue by the room's update handler; make it durable now so
    // callers can rely on "resolved = on disk" (a flush takes ~1 ms when little is queued).
    await this.store.flush()
    return result as T
  }

  async disconnect(): Promise<void> {
    const room = this.room
    if (!room) return
    this.room = undefined
    room.content.unpin()
    this.registry.release(room)
    this.onDisconnected(this)
  }

  private live(): Room {
    if (!this.room) throw new YwsError('YWS_ERR_DISCONNECTED')
    return this.room
  }
}
