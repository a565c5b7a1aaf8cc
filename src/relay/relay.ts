/**
 * What a room needs from the cross-instance relay. Every instance has one: standalone it is
 * a NullRelay (null-relay.ts), in a cluster a RedisStreamRelay; both live beside this file.
 * Every method is required, so a relay cannot silently make a cluster-wide action (revoke,
 * evict, delete) instance-local by leaving it out. Rooms never see ioredis types.
 */

import type { StoredDocs } from './republisher.js'

/** The room side, as the relay sees it. */
export interface RelaySink {
  readonly docName: string
  /**
   * An update another instance accepted. Idempotent in Yjs; applied with the relay origin,
   * then stored and sent to this room's clients as received (never published again).
   */
  applyRemoteUpdate(update: Uint8Array): void
  /** An awareness update from another instance's clients. */
  applyRemoteAwareness(update: Uint8Array): void
  /** This room's state vector, for diffing against what the relay holds. */
  stateVector(): Uint8Array
  /** What this room has that a peer with `stateVector` lacks (whole doc when omitted). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
  /** Awareness of this instance's own clients (answering a peer that just joined the doc). */
  encodeLocalAwareness?(): Uint8Array | undefined
}

/** A cluster-wide operator action, fanned out to every instance. */
export type ControlMessage =
  | { readonly type: 'revoke'; readonly doc?: string; readonly sub?: string }
  | { readonly type: 'evict'; readonly doc: string }
  /** The doc was deleted under deletion generation `generation` (document API). */
  | { readonly type: 'delete'; readonly doc: string; readonly generation: number }

/** One room's membership in the relay. */
export interface RoomRelay {
  publishUpdate(update: Uint8Array): void
  publishAwareness(update: Uint8Array): void
  /** Stop receiving for this room. */
  leave(): Promise<void>
}

/** The membership of a room that has none (not yet joined, destroyed, or standalone). */
export const DETACHED_ROOM_RELAY: RoomRelay = Object.freeze({
  publishUpdate: () => undefined,
  publishAwareness: () => undefined,
  leave: () => Promise.resolve(),
})

export interface Relay {
  /** 'standalone': no other instance shares this relay (NullRelay); 'cluster': others may. */
  readonly mode: 'standalone' | 'cluster'
  /** true while the relay is reachable (readiness); always true standalone. */
  readonly connected: boolean
  start(): Promise<void>
  /**
   * Subscribes a room, then brings it up to date with what the cluster holds and publishes
   * what only this instance holds. Resolves once the room has caught up (or the relay is
   * unreachable: local editing never waits for Redis; it catches up on reconnect).
   * `generation`: the deletion generation of the copy the room loaded from this instance's
   * store. If the shared state's is newer, the doc was deleted between the load and the join:
   * the room takes the deletion path (`onDocDeleted`) instead of publishing the deleted copy.
   */
  join(sink: RelaySink, generation?: number): Promise<RoomRelay>
  /** Sends `message` to every other instance (best effort: not retried while Redis is away). */
  broadcastControl(message: ControlMessage): void
  /**
   * Gives the relay this instance's stored docs, so that after Redis lost its data it can
   * re-publish the docs nobody has open here (promise 3).
   */
  attachStoredDocs(docs: StoredDocs): void
  /**
   * Called by the store before it writes updates of `docs` (a StoreWriteGuard): resolves once
   * every one of them whose published updates Redis has not confirmed yet is marked owed on
   * disk, so a process killed before the confirmation leaves the mark beside the update.
   * Absent (or `undefined` returned): nothing to wait for.
   */
  beforeStore?(docs: ReadonlySet<string>): Promise<void> | undefined
  /** Registers the handler for control messages from other instances. */
  onControl(handler: (message: ControlMessage) => void): void
  /**
   * Registers the handler for a doc found deleted by a resync (its deletion generation grew
   * since the room joined): the safety net for an instance that missed the control message.
   */
  onDocDeleted(handler: (docName: string, generation: number) => void): void
  /** Every update the cluster's shared state holds for a doc, without joining it (document API). */
  peekDoc(docName: string): Promise<Uint8Array[]>
  /**
   * Removes the doc's shared state under a new deletion generation; returns that generation,
   * or 0 when there is no shared state (standalone: the caller takes its store's next one).
   */
  deleteDoc(docName: string): Promise<number>
  /**
   * Removes this instance's update entries of the doc (its late relay entries, after it
   * unloaded a deleted doc). With `generation` (the delete's), only entries written under an
   * older generation (or none): what this instance wrote since, into the doc as it is after the
   * delete, is new content and stays.
   */
  clearDoc(docName: string, generation?: number): Promise<void>
  /** The doc's deletion generation in the shared state (0: never deleted). */
  docGeneration(docName: string): Promise<number>
  close(): Promise<void>
}
