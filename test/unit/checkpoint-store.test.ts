/** Checkpoints in a real LevelDB: their own key range, newest-first listing, pruning. */
import type { Level } from 'level'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CheckpointStore } from '../../src/history/checkpoint-store.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { tempDir } from '../helpers/temp-dir.js'

async function openStores() {
  const store = new LevelDocStore(await tempDir('yws-hist-'), { flushIntervalMs: 5, compactLogBytes: 0 })
  await store.open()
  return { store, history: new CheckpointStore(store.database), close: () => store.close() }
}

function state(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('CheckpointStore', () => {
  it('stores full states with metadata and lists them newest first', async () => {
    const { history, close } = await openStores()
    const one = state('one')
    const first = await history.put('doc', one, { users: ['bob', 'ann', 'bob'] })
    const second = await history.put('doc', state('two'), { users: [], label: 'release' })
    expect(second.id > first.id).toBe(true)
    expect(first.users).toEqual(['ann', 'bob'])
    expect(first.bytes).toBe(one.byteLength)
    expect(new Date(first.at).getTime()).toBeGreaterThan(Date.now() - 60_000)
    expect((await history.list('doc')).map((meta) => meta.id)).toEqual([second.id, first.id])
    expect((await history.list('doc'))[0]!.label).toBe('release')
    expect(Buffer.from((await history.state('doc', first.id))!)).toEqual(Buffer.from(one))
    expect(await history.state('doc', 'not-an-id')).toBeUndefined()
    expect(await history.list('doc/other')).toEqual([])
    await close()
  })

  it('lives outside the docs key range: loading, listing and compacting docs never see it', async () => {
    const { store, history, close } = await openStores()
    const live = state('live')
    store.append('doc', live)
    await store.flush()
    await history.put('doc', state('old'), { users: [] })
    const docs = []
    for await (const stats of store.listDocs()) docs.push(stats)
    expect(docs).toEqual([{ docName: 'doc', snapshotBytes: 0, logEntries: 1, logBytes: live.byteLength }])
    const compaction = await store.compact('doc')
    expect(compaction.logEntriesMerged).toBe(1)
    expect((await history.list('doc')).length).toBe(1)
    await close()
  })

  it('prune keeps HISTORY_KEEP, frees what it dropped, and deleteDoc removes a whole history', async () => {
    const { store, history, close } = await openStores()
    for (let i = 0; i < 5; i++) await history.put('doc', state(`v${i}`), { users: [] })
    const pruned = await history.prune('doc', 2, { freeDisk: true })
    expect(pruned.versions).toBe(3)
    expect((await history.stats('doc')).versions).toBe(2)
    await history.deleteDoc('doc')
    expect(await history.list('doc')).toEqual([])
    // Nothing else of the database was touched.
    const raw = store.database as Level<string, Uint8Array>
    const keys = []
    for await (const key of raw.keys()) keys.push(key)
    expect(keys).toEqual(['m\u0000boot'])
    await close()
  })
})
