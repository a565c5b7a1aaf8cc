/**
 * A room's presence: the Awareness instance, which local connection owns each awareness
 * client id, and the wiring of awareness changes to clients and the relay.
 *
 * Ownership is given only by a state that actually applied (see `trackOwners`), never by
 * merely naming an id; what a connection may speak for is decided per entry by
 * awareness-ownership.ts.
 */
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { type AwarenessEntry, encodeAwareness, encodeAwarenessEntries } from '../protocol/messages.js'
import { judgeAwarenessEntry } from './awareness-ownership.js'
import { RELAY_ORIGIN, type RoomConnection } from './room-connection.js'

interface AwarenessChange {
  added: number[]
  updated: number[]
  removed: number[]
}

export interface RoomAwarenessDeps {
  /** The room's live connections (ownership is only ever given to one of them). */
  readonly connections: ReadonlySet<RoomConnection>
  /** A local awareness change to hand to other instances. */
  publish(update: Uint8Array): void
  /** A connection tried to move another user's state. */
  onSpoof(): void
}

export class RoomAwareness {
  readonly awareness: Awareness
  /** Awareness client id -> the local connection whose applied state holds it. */
  private readonly owners = new Map<number, RoomConnection>()

  constructor(
    doc: Y.Doc,
    private readonly deps: RoomAwarenessDeps,
  ) {
    this.awareness = new Awareness(doc)
    // The server is not a collaborator: it publishes no awareness state of its own.
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.onUpdate)
  }

  /** Every state this room holds, encoded for one message (undefined when there is none). */
  encodeAll(): Uint8Array | undefined {
    const states = this.awareness.getStates()
    return states.size > 0 ? encodeAwarenessUpdate(this.awareness, [...states.keys()]) : undefined
  }

  /** Answers a query-awareness message (always, even with no states). */
  answerQuery(connection: RoomConnection): void {
    const update = encodeAwarenessUpdate(this.awareness, [...this.awareness.getStates().keys()])
    connection.send(encodeAwareness(update), 'awareness')
  }

  /**
   * Applies the entries a connection may speak for (see awareness-ownership.ts): echoes of
   * others' states are dropped silently, a returning client is asked to re-announce with a
   * newer clock, and only a real attempt to move another user's state counts as spoofing.
   */
  applyFromClient(connection: RoomConnection, update: Uint8Array, entries: readonly AwarenessEntry[]): void {
    const accepted: AwarenessEntry[] = []
    const reannounce: AwarenessEntry[] = []
    const meta = this.awareness.meta
    for (const entry of entries) {
      const owner = this.owners.get(entry.clientId)
      const verdict = judgeAwarenessEntry(entry, connection, {
        owner: owner && { subject: owner.subject, isSender: owner === connection },
        clock: meta.get(entry.clientId)?.clock,
        held: this.awareness.states.has(entry.clientId),
      })
      if (verdict === 'apply' || verdict === 'apply-and-reannounce') accepted.push(entry)
      if (verdict === 'reannounce' || verdict === 'apply-and-reannounce') {
        reannounce.push({ clientId: entry.clientId, clock: entry.clock, state: null })
      }
      if (verdict === 'spoof') this.deps.onSpoof()
    }
    if (accepted.length > 0) {
      // Ownership follows what applies: see trackOwners.
      const applicable = accepted.length === entries.length ? update : encodeAwarenessEntries(accepted)
      applyAwarenessUpdate(this.awareness, applicable, connection)
    }
    if (reannounce.length > 0) {
      // Sent after the apply's broadcast, so the client bumps past the clock it just saw.
      connection.send(encodeAwareness(encodeAwarenessEntries(reannounce)), 'awareness')
    }
  }

  /** An awareness update another instance accepted. */
  applyFromRelay(update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, RELAY_ORIGIN)
  }

  /** Removes every state `connection` controlled, here and (via the relay) everywhere. */
  removeConnection(connection: RoomConnection): void {
    if (connection.awarenessIds.size > 0) {
      removeAwarenessStates(this.awareness, [...connection.awarenessIds], connection)
    }
  }

  /** The states this instance's own clients published (for a peer that just joined). */
  encodeLocal(): Uint8Array | undefined {
    const states = this.awareness.getStates()
    const ids: number[] = []
    for (const connection of this.deps.connections) {
      for (const id of connection.awarenessIds) if (states.has(id)) ids.push(id)
    }
    return ids.length > 0 ? encodeAwarenessUpdate(this.awareness, ids) : undefined
  }

  destroy(): void {
    this.awareness.off('update', this.onUpdate)
    this.awareness.destroy()
  }

  /** Records which local connection holds each id, from the changes that really applied. */
  private trackOwners(change: AwarenessChange, origin: unknown): void {
    const connections = this.deps.connections
    const publisher = connections.has(origin as RoomConnection) ? (origin as RoomConnection) : undefined
    for (const id of [...change.added, ...change.updated]) {
      const previous = this.owners.get(id)
      if (previous === publisher) continue
      previous?.awarenessIds.delete(id)
      // A state from the relay (or the server) is owned by no local connection.
      if (publisher) {
        publisher.awarenessIds.add(id)
        this.owners.set(id, publisher)
      } else {
        this.owners.delete(id)
      }
    }
    for (const id of change.removed) {
      this.owners.get(id)?.awarenessIds.delete(id)
      this.owners.delete(id)
    }
  }

  private readonly onUpdate = (change: AwarenessChange, origin: unknown): void => {
    const changed = [...change.added, ...change.updated, ...change.removed]
    if (changed.length === 0) return
    this.trackOwners(change, origin)
    const update = encodeAwarenessUpdate(this.awareness, changed)
    const message = encodeAwareness(update)
    // Echoed to the sender too: stock clients treat 30 s without any message as a dead
    // connection, and their 15 s awareness renewal coming back is what keeps idle ones alive.
    for (const connection of this.deps.connections) connection.send(message, 'awareness')
    // Timeouts are not relayed: every instance expires a silent state by itself (this is also
    // how a dead instance's clients disappear everywhere), so relaying would only multiply.
    if (origin !== RELAY_ORIGIN && origin !== 'timeout') this.deps.publish(update)
  }
}
