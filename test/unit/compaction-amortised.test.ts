/**
 * Automatic compaction rewrites a doc's snapshot only once its log holds at least as many
 * bytes as that snapshot (or COMPACT_LOG_ENTRIES entries): a big doc growing by big updates
 * otherwise rewrote its whole snapshot every COMPACT_LOG_BYTES.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { CompactionResult } from '../../src/storage/doc-store.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { tempDir } from '../helpers/temp-dir.js'

/** `count` updates of `chars` characters each, from one client. */
function updates(doc: Y.Doc, count: number, chars: number): Uint8Array[] {
  const out: Uint8Array[] = []
  const record = (update: Uint8Array) => out.push(update)
  doc.on('update', record)
  for (let i = 0; i < count; i++) doc.getText('t').insert(0, String(i % 10).repeat(chars))
  doc.off('update', record)
  return out
}

/** The docs due for an automatic compaction and not started yet (the store's own queue). */
function autoQueue(store: LevelDocStore): ReadonlySet<string> {
  return (store as unknown as { autoQueue: ReadonlySet<string> }).autoQueue
}

describe('automatic compaction of a doc with a big snapshot', () => {
  it('waits until the log is as big as the snapshot, then compacts', async () => {
    const compactions: CompactionResult[] = []
    const store = new LevelDocStore(await tempDir('yws-amortised-'), {
      compactLogBytes: 4096,
      compactLogEntries: 1000,
      flushIntervalMs: 60_000,
      observer: { onCompaction: (result) => compactions.push(result) },
    })
    await store.open()
    try {
      const doc = new Y.Doc()
      for (const update of updates(doc, 1, 100_000)) store.append('big', update)
      await store.compact('big')
      compactions.length = 0

      // 40 KB of log: 10× COMPACT_LOG_BYTES, under the 100 KB snapshot: not yet.
      for (const update of updates(doc, 10, 4_000)) store.append('big', update)
      await store.flush()
      // Queued by the write that just ended, started in a macrotask of its own: looked at now.
      expect(autoQueue(store).has('big')).toBe(false)
      // 120 KB of log: past the snapshot. The first compaction takes all 30 entries (one
      // started after the first 10 would have taken those alone).
      for (const update of updates(doc, 20, 4_000)) store.append('big', update)
      await store.flush()
      await expect.poll(() => compactions.length).toBe(1)
      expect(compactions[0]!.logEntriesMerged).toBe(30)
      const loaded = new Y.Doc()
      Y.applyUpdate(loaded, (await store.load('big')).update)
      expect(loaded.getText('t').toString()).toBe(doc.getText('t').toString())
    } finally {
      await store.close()
    }
  })
})
