/**
 * The registry's own sweep timer (RoomRegistry.sweepInSlices) drops the Y.Doc of every quiet
 * room even when there are more rooms than one slice encodes: it yields between slices and
 * carries on where it stopped, instead of encoding them all in one macrotask.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createLogger } from '../../src/observability/logger.js'
import { Metrics } from '../../src/observability/metrics.js'
import { NullRelay } from '../../src/relay/null-relay.js'
import type { Room } from '../../src/room/room.js'
import { RoomRegistry } from '../../src/room/room-registry.js'
import { MemoryDocStore } from '../../src/storage/memory-doc-store.js'
import { waitFor } from '../helpers/wait.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

describe('RoomRegistry quiet sweep', () => {
  it('drops every quiet room’s Y.Doc across several slices', async () => {
    const store = new MemoryDocStore()
    await store.open()
    const registry = new RoomRegistry({
      store,
      relay: new NullRelay(),
      metrics: new Metrics('sweep-test'),
      logger: createLogger('silent', 'sweep-test'),
      maxDocBytes: 64 * 1024 * 1024,
      maxOpenDocs: 10_000,
      roomIdleMs: 60_000,
      docIdleMs: 40,
    })
    closers.push(async () => {
      await registry.close()
      await store.close()
    })
    const rooms: Room[] = []
    // 300 separate inserts per doc (300 items to encode): 400 encodes take far longer than
    // one 5 ms slice on any machine we run on.
    for (let i = 0; i < 400; i++) {
      const room = await registry.acquire(`doc-${i}`)
      const source = new Y.Doc()
      for (let k = 0; k < 300; k++) source.getText('t').insert(k * 2, 'x ')
      room.applyApiUpdate(Y.encodeStateAsUpdate(source))
      rooms.push(room)
    }
    expect(rooms.filter((room) => room.content.live).length).toBe(400)
    // An observer that runs between macrotasks: it sees a partly done sweep only if the
    // sweep yielded (one macrotask for all 400 would go from 400 live to 0 at once).
    const partial: number[] = []
    let observing = true
    const observe = (): void => {
      const live = rooms.filter((room) => room.content.live).length
      if (live > 0 && live < 400) partial.push(live)
      if (observing) setImmediate(observe)
    }
    observe()
    await waitFor(() => rooms.every((room) => !room.content.live), {
      what: 'every quiet room held encoded by the timer',
      timeoutMs: 15_000,
    })
    observing = false
    expect(partial.length).toBeGreaterThan(0)
    // Encoded, the content is intact.
    const doc = new Y.Doc()
    Y.applyUpdate(doc, rooms[399]!.encodeStateAsUpdate())
    expect(doc.getText('t').toString()).toBe('x '.repeat(300))
  })
})
