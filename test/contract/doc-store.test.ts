/**
 * The DocStore contract, run against every implementation (today: LevelDocStore).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocStore } from '../../src/storage/doc-store.js'
import { LevelDocStore, StoreLockedError } from '../../src/storage/level-doc-store.js'
import { tempDir } from '../helpers/temp-dir.js'

interface Implementation {
  name: string
  create(dir: string, options?: { compactLogEntries?: number }): DocStore
}

const implementations: Implementation[] = [
  {
    name: 'LevelDocStore',
    create: (dir, options) =>
      new LevelDocStore(dir, {
        flushIntervalMs: 20,
        compactLogEntries: options?.compactLogEntries ?? 1_000_000,
      }),
  },
]

/** Makes `count` single-character edits on a doc, returning each update and the doc. */
function typing(count: number, seed = 1): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  doc.clientID = seed
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const text = doc.getText('t')
  for (let i = 0; i < count; i++) {
    if (i % 7 === 6) text.delete(Math.floor(text.length / 2), 1)
    else text.insert(Math.floor((i * 31) % (text.length + 1)), String.fromCharCode(97 + (i % 26)))
  }
  return { doc, updates }
}

function loadInto(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}

for (const implementation of implementations) {
  describe(`DocStore contract: ${implementation.name}`, () => {
    async function openStore(dir?: string, options?: { compactLogEntries?: number }) {
      const store = implementation.create(dir ?? (await tempDir()), options)
      await store.open()
      return store
    }

    it('loads an unknown doc as empty', async () => {
      const store = await openStore()
      const loaded = await store.load('nothing-here')
      expect(loadInto(loaded.update).getText('t').toString()).toBe('')
      expect(loaded.logEntries).toBe(0)
      await store.close()
    })

    it('persists appended updates across a reopen', async () => {
      const dir = await tempDir()
      const store = await openStore(dir)
      const { doc, updates } = typing(300)
      for (const update of updates) store.append('a/doc', update)
      await store.close()
      const reopened = await openStore(dir)
      const loaded = await reopened.load('a/doc')
      expect(loaded.logEntries).toBe(300)
      expect(Y.encodeStateAsUpdate(loadInto(loaded.update))).toEqual(Y.encodeStateAsUpdate(doc))
      await reopened.close()
    })

    it('keeps docs whose names are prefixes of each other apart', async () => {
      const store = await openStore()
      const a = typing(5, 1)
      const b = typing(9, 2)
      for (const update of a.updates) store.append('doc', update)
      for (const update of b.updates) store.append('doc2', update)
      await store.flush()
      expect(
        loadInto((await store.load('doc')).update)
          .getText('t')
          .toString(),
      ).toBe(a.doc.getText('t').toString())
      expect(
        loadInto((await store.load('doc2')).update)
          .getText('t')
          .toString(),
      ).toBe(b.doc.getText('t').toString())
      const listed = []
      for await (const stats of store.listDocs()) listed.push([stats.docName, stats.logEntries])
      expect(listed).toEqual([
        ['doc', 5],
        ['doc2', 9],
      ])
      await store.close()
    })

    it('deleteDoc removes snapshot, log and queued entries of one doc only, and records the generation', async () => {
      const dir = await tempDir()
      const store = await openStore(dir)
      const a = typing(20, 1)
      for (const update of a.updates) store.append('doc', update)
      await store.compact('doc')
      for (const update of typing(3, 3).updates) store.append('doc', update) // log after the snapshot
      await store.flush()
      store.append('doc', typing(1, 4).updates[0]!) // still queued
      for (const update of typing(5, 2).updates) store.append('doc2', update)
      expect(await store.generation('doc')).toBe(0)
      await store.deleteDoc('doc', 3)
      const gone = await store.load('doc')
      expect([gone.snapshotBytes, gone.logEntries]).toEqual([0, 0])
      expect(await store.generation('doc')).toBe(3)
      expect((await store.load('doc2')).logEntries).toBe(5)
      await store.close()
      const reopened = await openStore(dir)
      expect((await reopened.load('doc')).logEntries).toBe(0)
      expect(await reopened.generation('doc')).toBe(3)
      const listed = []
      for await (const stats of reopened.listDocs()) listed.push(stats.docName)
      expect(listed).toEqual(['doc2'])
      await reopened.close()
    })

    it('compaction keeps the document identical and leaves one snapshot', async () => {
      const dir = await tempDir()
      const store = await openStore(dir)
      const { doc, updates } = typing(2_000)
      for (const update of updates) store.append('big', update)
      const result = await store.compact('big')
      expect(result).toMatchObject({ compacted: true, logEntriesMerged: 2_000 })
      expect(result.bytesAfter).toBeLessThan(result.bytesBefore)
      await store.close()
      const reopened = await openStore(dir)
      const loaded = await reopened.load('big')
      expect(loaded.logEntries).toBe(0)
      const reloaded = loadInto(loaded.update)
      expect(reloaded.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(reloaded)).toEqual(Y.encodeStateVector(doc))
      await reopened.close()
    })

    it('dry-run compaction writes nothing', async () => {
      const store = await openStore()
      for (const update of typing(50).updates) store.append('d', update)
      const result = await store.compact('d', { dryRun: true })
      expect(result).toMatchObject({ compacted: false, logEntriesMerged: 50 })
      expect((await store.load('d')).logEntries).toBe(50)
      await store.close()
    })

    it('updates appended during a compaction survive it', async () => {
      const store = await openStore()
      const { doc, updates } = typing(1_000)
      for (const update of updates.slice(0, 900)) store.append('racy', update)
      const compaction = store.compact('racy')
      for (const update of updates.slice(900)) store.append('racy', update)
      await compaction
      await store.flush()
      const reloaded = loadInto((await store.load('racy')).update)
      expect(reloaded.getText('t').toString()).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('compacts automatically past the log threshold', async () => {
      const store = await openStore(undefined, { compactLogEntries: 100 })
      const { doc, updates } = typing(250)
      for (const update of updates) store.append('auto', update)
      await store.flush()
      // The automatic compaction is asynchronous; an explicit one joins or follows it.
      await store.compact('auto')
      const loaded = await store.load('auto')
      expect(loaded.logEntries).toBe(0)
      expect(loadInto(loaded.update).getText('t').toString()).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('merges and compacts big documents on the worker pool', async () => {
      const store = await openStore()
      const doc = new Y.Doc()
      const updates: Uint8Array[] = []
      doc.on('update', (update: Uint8Array) => updates.push(update))
      for (let i = 0; i < 40; i++) doc.getText('t').insert(0, `${i}`.padEnd(20_000, '.'))
      doc.getText('t').delete(0, 100_000)
      for (const update of updates) store.append('huge', update)
      await store.flush()
      const loaded = loadInto((await store.load('huge')).update)
      expect(loaded.getText('t').toString()).toBe(doc.getText('t').toString())
      const result = await store.compact('huge')
      expect(result.bytesAfter).toBeLessThan(result.bytesBefore)
      expect(
        loadInto((await store.load('huge')).update)
          .getText('t')
          .toString(),
      ).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('refuses a second process on the same directory with a clear error', async () => {
      const dir = await tempDir()
      const store = await openStore(dir)
      const second = implementation.create(dir)
      await expect(second.open()).rejects.toBeInstanceOf(StoreLockedError)
      await store.close()
    })

    it('rejects invalid doc names', async () => {
      const store = await openStore()
      await expect(store.load('bad\u0000name')).rejects.toThrow(/control/)
      await store.close()
    })
  })
}
