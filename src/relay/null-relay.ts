/**
 * The relay of a standalone instance: nobody else shares its documents, so there is nothing
 * to publish to or hear from. A null object, so callers never ask "is there a relay?": a
 * room's publishes go nowhere, control messages reach no one (this instance acts on them
 * itself), the shared state is always empty, and `deleteDoc` answers 0 ("no shared
 * generation: the caller picks the next one from its own store").
 */
import type { ControlMessage, Relay, RelaySink, RoomRelay } from './relay.js'
import { DETACHED_ROOM_RELAY } from './relay.js'
import type { StoredDocs } from './republisher.js'

export class NullRelay implements Relay {
  readonly mode = 'standalone'
  /** Always: a standalone instance is never degraded by a relay. */
  readonly connected = true

  start(): Promise<void> {
    return Promise.resolve()
  }

  join(_sink: RelaySink, _generation?: number): Promise<RoomRelay> {
    return Promise.resolve(DETACHED_ROOM_RELAY)
  }

  broadcastControl(_message: ControlMessage): void {}

  attachStoredDocs(_docs: StoredDocs): void {}

  onControl(_handler: (message: ControlMessage) => void): void {}

  onDocDeleted(_handler: (docName: string, generation: number) => void): void {}

  peekDoc(_docName: string): Promise<Uint8Array[]> {
    return Promise.resolve([])
  }

  deleteDoc(_docName: string): Promise<number> {
    return Promise.resolve(0)
  }

  clearDoc(_docName: string, _generation?: number): Promise<void> {
    return Promise.resolve()
  }

  docGeneration(_docName: string): Promise<number> {
    return Promise.resolve(0)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
