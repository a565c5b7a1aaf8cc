/**
 * Room.receive fans out every relayed update that told the doc something, including one Yjs
 * only parks: a second out-of-order update is merged into the existing pendingStructs object
 * in place (same object, new `update`), which an identity check alone misses. Missed, its
 * bytes reached neither the room's clients nor its store, while the room itself integrated
 * them once the dependency arrived (the cluster late-joiner stall: every room converged,
 * one client stayed 40 clocks behind for good).
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'
import { createLogger } from '../../src/observability/logger.js'
import { Metrics } from '../../src/observability/metrics.js'
import { decodeClientMessage } from '../../src/protocol/messages.js'
import { Room, type RoomConnection } from '../../src/room/room.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { tempDir } from '../helpers/temp-dir.js'

/** Three updates of one writer, each depending on the one before. */
function chain(): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (const word of ['one ', 'two ', 'three ']) doc.getText('t').insert(doc.getText('t').length, word)
  return updates
}

describe('Room.receive', () => {
  it('fans out each out-of-order relayed update, also the second one Yjs parks', async () => {
    const store = new LevelDocStore(await tempDir('yws-room-'))
    await store.open()
    onTestFinished(() => store.close())
    const logger = createLogger('silent', 'test')
    const room = await Room.open('doc', { store, metrics: new Metrics('test'), logger, maxDocBytes: 1 << 24 })
    onTestFinished(() => room.destroy())
    const client = new Y.Doc()
    const connection: RoomConnection = {
      id: 'c1',
      readOnly: false,
      awarenessIds: new Set(),
      send(message) {
        const decoded = decodeClientMessage(message)
        if (decoded.ok && decoded.message.kind === 'update') Y.applyUpdate(client, decoded.message.update)
      },
      close() {},
    }
    room.addConnection(connection)
    const [first, second, third] = chain()
    room.applyRemoteUpdate(third!)
    room.applyRemoteUpdate(second!)
    room.applyRemoteUpdate(first!)
    expect(room.doc.getText('t').toString()).toBe('one two three ')
    expect(client.getText('t').toString()).toBe('one two three ')
    const stored = new Y.Doc()
    await store.flush()
    Y.applyUpdate(stored, (await store.load('doc')).update)
    expect(stored.getText('t').toString()).toBe('one two three ')
  })
})
