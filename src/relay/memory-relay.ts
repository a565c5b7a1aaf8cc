/**
 * An in-process relay: several app instances in one process share a `MemoryRelayHub`, so
 * multi-instance logic (fan-out across instances, control messages, deletes, resync after an
 * outage) is testable without Redis. It keeps the RedisStreamRelay's promises (the relay
 * contract in src/testing/relay-contract.ts runs against both):
 *
 *   - the hub holds each doc's shared state (every update published, tagged with its
 *     instance, plus the deletion generation), like a doc's Redis snapshot + stream;
 *   - deliveries are asynchronous and in publish order, never back to the publisher;
 *   - join brings the room level with the shared state, then publishes what only it holds,
 *     and asks the other members for their clients' awareness;
 *   - `partition()` cuts an instance off like a Redis outage: it misses what others publish
 *     and drops its own updates (its rooms go stale); `heal()` resyncs every stale room.
 *
 * Not simulated: Redis losing its data (attachStoredDocs is accepted and unused).
 */
import * as Y from 'yjs'
import type { ControlMessage, Relay, RelaySink, RoomRelay } from './relay.js'
import type { StoredDocs } from './republisher.js'
import { updateAddsTo } from './update-coverage.js'

const EMPTY_UPDATE = new Uint8Array([0, 0])

interface SharedDoc {
  updates: { readonly from: MemoryRelay; readonly update: Uint8Array; readonly generation?: number }[]
  generation: number
  readonly members: Map<MemoryRelay, MemoryRoom>
}

/** The shared state of one in-process cluster. */
export class MemoryRelayHub {
  private readonly docs = new Map<string, SharedDoc>()
  readonly relays = new Set<MemoryRelay>()
  private queue: (() => void)[] = []
  private scheduled = false

  doc(docName: string): SharedDoc {
    let doc = this.docs.get(docName)
    if (!doc) {
      doc = { updates: [], generation: 0, members: new Map() }
      this.docs.set(docName, doc)
    }
    return doc
  }

  /** Runs `delivery` after the current tick, after every delivery posted before it. */
  post(delivery: () => void): void {
    this.queue.push(delivery)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      const due = this.queue
      this.queue = []
      for (const run of due) run()
    })
  }
}

class MemoryRoom implements RoomRelay {
  stale = false
  /** The doc's deletion generation when the room first synced. */
  generation: number | undefined

  constructor(
    private readonly relay: MemoryRelay,
    readonly sink: RelaySink,
    /** The deletion generation of the copy the room loaded (Relay.join). */
    readonly loadedGeneration?: number,
  ) {}

  publishUpdate(update: Uint8Array): void {
    this.relay.publish(this, 'u', update)
  }

  publishAwareness(update: Uint8Array): void {
    this.relay.publish(this, 'a', update)
  }

  leave(): Promise<void> {
    this.relay.leaveRoom(this)
    return Promise.resolve()
  }
}

let instances = 0

export class MemoryRelay implements Relay {
  readonly mode = 'cluster'
  private readonly rooms = new Map<string, MemoryRoom>()
  private readonly controlHandlers: ((message: ControlMessage) => void)[] = []
  private readonly deletedHandlers: ((docName: string, generation: number) => void)[] = []
  private started = false
  private partitioned = false
  private closed = false

  constructor(
    private readonly hub: MemoryRelayHub,
    readonly instanceId = `memory-${++instances}`,
  ) {}

  get connected(): boolean {
    return this.started && !this.partitioned && !this.closed
  }

  start(): Promise<void> {
    this.started = true
    this.hub.relays.add(this)
    return Promise.resolve()
  }

  async join(sink: RelaySink, generation?: number): Promise<RoomRelay> {
    const room = new MemoryRoom(this, sink, generation)
    const shared = this.hub.doc(sink.docName)
    this.rooms.get(sink.docName)?.leave()
    this.rooms.set(sink.docName, room)
    shared.members.set(this, room)
    if (!this.connected) {
      room.stale = true
      return room
    }
    this.sync(room)
    // Like the Redis relay's 'q' entry: peers answer with their clients' awareness.
    this.hub.post(() => {
      for (const [relay, peer] of shared.members) {
        if (relay === this || !relay.connected || !this.connected) continue
        const local = peer.sink.encodeLocalAwareness?.()
        if (local && shared.members.get(this) === room) sink.applyRemoteAwareness(local)
      }
    })
    return room
  }

  leaveRoom(room: MemoryRoom): void {
    const docName = room.sink.docName
    if (this.rooms.get(docName) !== room) return
    this.rooms.delete(docName)
    this.hub.doc(docName).members.delete(this)
  }

  publish(room: MemoryRoom, kind: 'u' | 'a', data: Uint8Array): void {
    if (this.closed || this.rooms.get(room.sink.docName) !== room) return
    if (!this.connected) {
      if (kind === 'u') room.stale = true // found by the resync on heal
      return
    }
    const shared = this.hub.doc(room.sink.docName)
    if (kind === 'u') {
      shared.updates.push(
        room.generation === undefined
          ? { from: this, update: data }
          : { from: this, update: data, generation: room.generation },
      )
    }
    this.hub.post(() => {
      for (const [relay, peer] of shared.members) {
        if (relay === this || !relay.connected) continue
        if (kind === 'u') peer.sink.applyRemoteUpdate(data)
        else peer.sink.applyRemoteAwareness(data)
      }
    })
  }

  /** Brings the room level with the shared state, then publishes what only it holds. */
  private sync(room: MemoryRoom): void {
    const shared = this.hub.doc(room.sink.docName)
    // A copy loaded under an older generation than the shared one was deleted since the load.
    room.generation ??= Math.min(shared.generation, room.loadedGeneration ?? shared.generation)
    if (shared.generation > room.generation) {
      for (const handler of this.deletedHandlers) handler(room.sink.docName, shared.generation)
      return
    }
    room.stale = false
    const updates = shared.updates.map((entry) => entry.update)
    const state = updates.length === 0 ? EMPTY_UPDATE : Y.mergeUpdates(updates)
    if (updates.length > 0) room.sink.applyRemoteUpdate(Y.diffUpdate(state, room.sink.stateVector()))
    const diff = room.sink.encodeStateAsUpdate(Y.encodeStateVectorFromUpdate(state))
    if (updateAddsTo(state, diff)) this.publish(room, 'u', diff)
  }

  /** Cuts this instance off the hub (a Redis outage); returns heal(), which resyncs its rooms. */
  partition(): () => Promise<void> {
    this.partitioned = true
    return () => {
      this.partitioned = false
      // Every room may have missed deliveries, not only the stale ones: all resync.
      for (const room of this.rooms.values()) this.sync(room)
      return Promise.resolve()
    }
  }

  broadcastControl(message: ControlMessage): void {
    if (!this.connected) return // best effort, like the Redis relay while Redis is away
    const copy = Object.freeze({ ...message })
    this.hub.post(() => {
      for (const relay of this.hub.relays) {
        if (relay === this || !relay.connected) continue
        for (const handler of relay.controlHandlers) handler(copy)
      }
    })
  }

  attachStoredDocs(_docs: StoredDocs): void {}

  onControl(handler: (message: ControlMessage) => void): void {
    this.controlHandlers.push(handler)
  }

  onDocDeleted(handler: (docName: string, generation: number) => void): void {
    this.deletedHandlers.push(handler)
  }

  peekDoc(docName: string): Promise<Uint8Array[]> {
    return Promise.resolve(this.hub.doc(docName).updates.map((entry) => entry.update))
  }

  deleteDoc(docName: string): Promise<number> {
    const shared = this.hub.doc(docName)
    shared.generation += 1
    shared.updates = []
    return Promise.resolve(shared.generation)
  }

  clearDoc(docName: string, generation?: number): Promise<void> {
    const shared = this.hub.doc(docName)
    shared.updates = shared.updates.filter(
      (entry) =>
        entry.from !== this ||
        (generation !== undefined && entry.generation !== undefined && entry.generation >= generation),
    )
    return Promise.resolve()
  }

  docGeneration(docName: string): Promise<number> {
    return Promise.resolve(this.hub.doc(docName).generation)
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    for (const room of [...this.rooms.values()]) this.leaveRoom(room)
    this.hub.relays.delete(this)
    return Promise.resolve()
  }
}
