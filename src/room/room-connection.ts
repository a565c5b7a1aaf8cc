/**
 * What a Room knows of the parties that change it: the client connections it serves (transport
 * details stay in the transport layer) and the origins of changes that come from elsewhere.
 */
import type { ChangeOrigin, HookUser } from '../hooks.js'
import type { CloseCodeName } from '../protocol/close-codes.js'

/** The room's view of a client connection. */
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
  sendPaced?(messages: Iterable<Uint8Array>, type: OutgoingType): void
  close(code: CloseCodeName, detail?: string): void
}

export type OutgoingType = 'sync-step1' | 'sync-step2' | 'update' | 'awareness'

/** Updates and awareness that another instance accepted (hook origin kind `relay`). */
export const RELAY_ORIGIN = Symbol('relay')
/** Changes made through a direct connection (`openDirectConnection`): origin kind `server`. */
export const SERVER_ORIGIN = Symbol('server')
/** Origin of updates from the admin document API and imports (hook origin kind `api`). */
export const API_ORIGIN = Symbol('api')

/** How the change hooks see the origin of a change the room accepted. */
export function changeOriginOf(origin: unknown, connections: ReadonlySet<RoomConnection>): ChangeOrigin {
  if (origin === RELAY_ORIGIN) return { kind: 'relay' }
  if (origin === API_ORIGIN) return { kind: 'api' }
  if (typeof origin === 'object' && origin !== null && connections.has(origin as RoomConnection)) {
    return clientOrigin(origin as RoomConnection)
  }
  // SERVER_ORIGIN, or a change made directly on the doc (onLoadDocument seeding it).
  return { kind: 'server' }
}

/** The origin of a client's change (also once the client left: a merge off the loop ends later). */
export function clientOrigin(connection: RoomConnection): ChangeOrigin {
  return connection.user ? { kind: 'client', user: connection.user } : { kind: 'client' }
}
