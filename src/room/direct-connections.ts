/**
 * The server's direct connections (`openDirectConnection`): opens each through the room
 * registry with the library's errors, and keeps them so `close()` can disconnect them
 * before the rooms go.
 */
import { docNameProblem } from '../doc-name.js'
import { YwsError } from '../errors.js'
import type { DocStore } from '../storage/doc-store.js'
import { RoomDirectConnection } from './direct-connection.js'
import type { RoomRegistry } from './room-registry.js'

export class DirectConnections {
  private readonly open = new Set<RoomDirectConnection>()
  private closing = false

  constructor(
    private readonly registry: RoomRegistry,
    private readonly store: DocStore,
  ) {}

  /**
   * @param ready opens storage and the relay first (rejects once the server is closing).
   * @throws YwsError YWS_ERR_DOC_NAME, YWS_ERR_CLOSED, YWS_ERR_DOC_UNAVAILABLE (cause: why)
   */
  async connect(docName: string, ready: () => Promise<void>): Promise<RoomDirectConnection> {
    const problem = typeof docName === 'string' ? docNameProblem(docName) : 'document name must be a string'
    if (problem) throw new YwsError('YWS_ERR_DOC_NAME', problem)
    await ready()
    let room: Awaited<ReturnType<RoomRegistry['acquire']>>
    try {
      room = await this.registry.acquire(docName)
    } catch (error) {
      if (this.closing) throw new YwsError('YWS_ERR_CLOSED')
      const detail = error instanceof Error ? error.message : String(error)
      throw new YwsError('YWS_ERR_DOC_UNAVAILABLE', detail, { cause: error })
    }
    if (this.closing) {
      this.registry.release(room)
      throw new YwsError('YWS_ERR_CLOSED')
    }
    const connection = new RoomDirectConnection(room, this.registry, this.store, (gone) =>
      this.open.delete(gone),
    )
    this.open.add(connection)
    return connection
  }

  /** Refuses new ones from now on (a load in flight ends in YWS_ERR_CLOSED). */
  stopAccepting(): void {
    this.closing = true
  }

  /** Disconnects every open one, one after another. */
  async disconnectAll(): Promise<void> {
    for (const connection of [...this.open]) await connection.disconnect()
  }
}
