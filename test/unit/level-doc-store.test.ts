import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { CorruptStateError } from '../../src/errors.js'
import { LevelBackend, SNAPSHOT_CHUNK_BYTES } from '../../src/storage/level-backend.js'
import { LevelDocStore, prefixEnd } from '../../src/storage/level-doc-store.js'
import { dumpLevel } from '../helpers/doc-store-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

async function storeWith(names: readonly string[]) {
  const dir = await tempDir('yws-store-')
  const store = new LevelDocStore(dir, { compactLogBytes: 0 })
  await store.open()
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'x')
  for (const name of names) store.append(name, Y.encodeStateAsUpdate(doc))
  await store.close()
  return dir
}

// Listing order, prefixes and paging are in the DocStore contract (test/contract/doc-store.test.ts).
describe('LevelDocStore key ranges', () => {
  it('prefixEnd bounds exactly the keys that start with the prefix', () => {
    expect(prefixEnd('ab')).toBe('ac')
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000')
    expect(prefixEnd('a\u{10FFFF}')).toBe('b')
    expect(() => prefixEnd('')).toThrow(RangeError)
  })
})

describe('LevelDocStore reads its own counters strictly', () => {
  it('a malformed deletion generation is refused, not read as 0 or as its leading digits', async () => {
    const dir = await tempDir('yws-store-')
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await raw.open()
    await raw.batch([
      { type: 'put', key: 'g\u0000trailing', value: Buffer.from('12abc') },
      { type: 'put', key: 'g\u0000empty', value: Buffer.from('') },
      { type: 'put', key: 'g\u0000fine', value: Buffer.from('12') },
    ])
    await raw.close()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    expect(await store.generation('fine')).toBe(12)
    expect(await store.generation('never-deleted')).toBe(0)
    await expect(store.generation('trailing')).rejects.toMatchObject({ code: 'YWS_ERR_CORRUPT' })
    await expect(store.generation('empty')).rejects.toMatchObject({ code: 'YWS_ERR_CORRUPT' })
    await store.close()
  })

  it('a malformed boot id refuses the open instead of writing log keys named NaN', async () => {
    const dir = await tempDir('yws-store-')
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await raw.open()
    await raw.put('m\u0000boot', Buffer.from('not hex'))
    await raw.close()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await expect(store.open()).rejects.toMatchObject({ code: 'YWS_ERR_CORRUPT' })
  })
})

describe('LevelDocStore on-disk layout (unchanged by the core/backend split)', () => {
  it('opens a directory written in the release layout, and writes the same key shapes', async () => {
    const dir = await tempDir('yws-store-')
    const text = (value: string, clientID: number) => {
      const doc = new Y.Doc()
      doc.clientID = clientID
      doc.getText('t').insert(0, value)
      return Y.encodeStateAsUpdate(doc)
    }
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await raw.open()
    await raw.batch([
      { type: 'put', key: 'm\u0000boot', value: Buffer.from('00000000abcd') },
      { type: 'put', key: 'd\u0000old\u0000s', value: text('snap', 1) },
      { type: 'put', key: 'd\u0000old\u0000l00000000abcd00000001', value: text('log', 2) },
      { type: 'put', key: 'g\u0000gone', value: Buffer.from('7') },
    ])
    await raw.close()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    const loaded = await store.load('old')
    expect([loaded.snapshotBytes > 0, loaded.logEntries]).toEqual([true, 1])
    const doc = new Y.Doc()
    Y.applyUpdate(doc, loaded.update)
    expect(doc.getText('t').toString()).toMatch(/^(snaplog|logsnap)$/)
    expect(await store.generation('gone')).toBe(7)
    store.append('old', text('new', 3))
    await store.close()
    const keys = (await dumpLevel(dir)).map(([key]) => key)
    expect(keys).toContain('m\u0000boot')
    const fresh = keys.filter((key) => key.startsWith('d\u0000old\u0000l') && !key.endsWith('abcd00000001'))
    expect(fresh).toHaveLength(1)
    expect(fresh[0]!.startsWith('d\u0000old\u0000l')).toBe(true)
    expect(fresh[0]!.slice('d\u0000old\u0000l'.length)).toMatch(/^[0-9a-f]{12}00000001$/)
  })
})

describe('LevelDocStore big values (written apart from their batch)', () => {
  const bigText = (clientID: number, chars: number) => {
    const doc = new Y.Doc()
    doc.clientID = clientID
    let text = ''
    for (let i = 0; text.length < chars; i++) text += `${i.toString(36)} `
    doc.getText('t').insert(0, text.slice(0, chars))
    return Y.encodeStateAsUpdate(doc)
  }
  const small = (clientID: number, value: string) => {
    const doc = new Y.Doc()
    doc.clientID = clientID
    doc.getText('s').insert(0, value)
    return Y.encodeStateAsUpdate(doc)
  }
  const textsOf = (update: Uint8Array) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    return [doc.getText('t').length, doc.getText('s').toString()]
  }

  it('a batch with big and small entries stores each under its log key, and compaction replaces them by one snapshot', async () => {
    const dir = await tempDir('yws-store-')
    const keysOf = async () =>
      (await dumpLevel(dir)).map(([key]) => key).filter((key) => key.startsWith('d\u0000d\u0000'))
    let store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    store.append('d', small(3, 'a'))
    store.append('d', bigText(1, 300_000))
    store.append('d', small(4, 'b'))
    store.append('d', bigText(2, 600_000))
    await store.close()
    expect((await keysOf()).map((key) => key.slice(4, 5))).toEqual(['l', 'l', 'l', 'l'])

    store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    const loaded = await store.load('d')
    expect(loaded.logEntries).toBe(4)
    const expected = textsOf(loaded.update)
    expect(expected[0]).toBe(900_000)
    const result = await store.compact('d')
    expect([result.compacted, result.logEntriesMerged]).toEqual([true, 4])
    await store.close()
    // 900 KB: a chunked snapshot (one chunk below SNAPSHOT_CHUNK_BYTES) and its record.
    const keys = await keysOf()
    expect(keys.map((key) => key.slice(4, 5))).toEqual(['b', 'c'])

    store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    const reloaded = await store.load('d')
    expect([reloaded.logEntries, reloaded.snapshotBytes > 256 * 1024]).toEqual([0, true])
    expect(textsOf(reloaded.update)).toEqual(expected)
    await store.close()
  })

  it('big entries of one flush are put one at a time (each copied in its own event-loop turn)', async () => {
    const dir = await tempDir('yws-store-')
    const store = new LevelDocStore(dir, { compactLogBytes: 0, flushIntervalMs: 60_000 })
    await store.open()
    const db = store.database
    const put = db.put
    let inFlight = 0
    let most = 0
    db.put = (async (...args: Parameters<typeof put>) => {
      inFlight += 1
      most = Math.max(most, inFlight)
      try {
        await put.apply(db, args)
      } finally {
        inFlight -= 1
      }
    }) as typeof put
    store.append('d', bigText(1, 300_000))
    store.append('d', small(3, 'a'))
    store.append('d', bigText(2, 300_000))
    store.append('d', bigText(4, 300_000))
    await store.flush()
    db.put = put
    expect(most).toBe(1)
    expect((await store.load('d')).logEntries).toBe(4)
    await store.close()
  })

  it('a big snapshot beside the entries it holds (a compaction interrupted between its two writes) loads the same doc', async () => {
    const dir = await tempDir('yws-store-')
    const entries = [bigText(1, 300_000), small(2, 'x')]
    const merged = new Y.Doc()
    for (const entry of entries) Y.applyUpdate(merged, entry)
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await raw.open()
    await raw.batch([
      { type: 'put', key: 'd\u0000d\u0000l00000000abcd00000001', value: entries[0]! },
      { type: 'put', key: 'd\u0000d\u0000l00000000abcd00000002', value: entries[1]! },
      { type: 'put', key: 'd\u0000d\u0000s', value: Y.encodeStateAsUpdate(merged) },
    ])
    await raw.close()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    expect(textsOf((await store.load('d')).update)).toEqual([300_000, 'x'])
    expect((await store.compact('d')).logEntriesMerged).toBe(2)
    expect(textsOf((await store.load('d')).update)).toEqual([300_000, 'x'])
    await store.close()
  })
})

describe('LevelDocStore chunked snapshots', () => {
  /** ~`chars` of text in one update, enough for several chunks at 1 MiB. */
  const bigDoc = (chars: number) => {
    const doc = new Y.Doc()
    doc.clientID = 1
    let text = ''
    for (let i = 0; text.length < chars; i++) text += `${i.toString(36)} `
    doc.getText('t').insert(0, text.slice(0, chars))
    return doc
  }
  const typed = (clientID: number, value: string) => {
    const doc = new Y.Doc()
    doc.clientID = clientID
    doc.getText('s').insert(0, value)
    return Y.encodeStateAsUpdate(doc)
  }
  const contentOf = (update: Uint8Array) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    return `${doc.getText('t').toString()}|${doc.getText('s').toString()}`
  }
  const docKeys = async (dir: string, doc = 'big') =>
    (await dumpLevel(dir)).map(([key]) => key).filter((key) => key.startsWith(`d\u0000${doc}\u0000`))
  const kinds = (keys: readonly string[]) => keys.map((key) => key.split('\u0000')[2]![0]).join('')

  /** A data dir as main's code before chunks left it: one `s` value of 2.5 MB and a log entry. */
  async function legacyDir() {
    const dir = await tempDir('yws-store-')
    const raw = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await raw.open()
    const big = Y.encodeStateAsUpdate(bigDoc(2_500_000))
    await raw.batch([
      { type: 'put', key: 'm\u0000boot', value: Buffer.from('00000000abcd') },
      { type: 'put', key: 'd\u0000big\u0000s', value: big },
      { type: 'put', key: 'd\u0000big\u0000l00000000abcd00000001', value: typed(2, 'log') },
    ])
    await raw.close()
    return { dir, expected: contentOf(Y.mergeUpdates([big, typed(2, 'log')])), bytes: big.byteLength }
  }

  it('a data dir with a big single-value snapshot (written before chunks) loads, and compacts into chunks', async () => {
    const { dir, expected, bytes } = await legacyDir()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    const loaded = await store.load('big')
    expect([loaded.snapshotBytes, loaded.logEntries, contentOf(loaded.update)]).toEqual([bytes, 1, expected])
    const result = await store.compact('big')
    expect([result.compacted, result.logEntriesMerged]).toEqual([true, 1])
    const reloaded = await store.load('big')
    expect([reloaded.logEntries, contentOf(reloaded.update)]).toEqual([0, expected])
    const listed = []
    for await (const stats of store.listDocs()) listed.push(stats)
    expect(listed).toEqual([
      { docName: 'big', snapshotBytes: reloaded.snapshotBytes, logEntries: 0, logBytes: 0 },
    ])
    await store.close()
    const keys = await docKeys(dir)
    // The record, then ceil(bytes / 1 MiB) chunks; no `s` and no log entry.
    expect(kinds(keys)).toBe(`b${'c'.repeat(Math.ceil(reloaded.snapshotBytes / SNAPSHOT_CHUNK_BYTES))}`)
    expect(reloaded.snapshotBytes).toBeGreaterThan(2 * SNAPSHOT_CHUNK_BYTES)
  })

  it('a doc that shrinks below the chunked size goes back to one value, and its chunks go', async () => {
    const { dir } = await legacyDir()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    await store.compact('big')
    expect(kinds(await docKeysWhileOpen(store))).toMatch(/^bc+$/)
    // A compaction with gc: the text is deleted, the snapshot is small again.
    const doc = new Y.Doc()
    Y.applyUpdate(doc, (await store.load('big')).update)
    const before = Y.encodeStateVector(doc)
    doc.getText('t').delete(0, doc.getText('t').length)
    store.append('big', Y.encodeStateAsUpdate(doc, before))
    await store.compact('big')
    expect(kinds(await docKeysWhileOpen(store))).toBe('s')
    expect(contentOf((await store.load('big')).update)).toBe('|log')
    await store.close()
  })

  async function docKeysWhileOpen(store: LevelDocStore) {
    const keys: string[] = []
    for await (const key of store.database.keys({ gte: 'd\u0000big\u0000', lt: 'd\u0000big\u0001' }))
      keys.push(key)
    return keys
  }

  // Each step of a chunked compaction interrupted on the real backend: the chunk puts one by
  // one, then the batch that switches the record. What a crash at that point leaves on disk is
  // what a failed write leaves (LevelDB keeps completed writes in order), so after a reopen the
  // doc must load whole — never from a partial snapshot — and the next compaction must tidy up.
  it('a compaction interrupted at any step loses nothing and never loads a partial snapshot', async () => {
    const { expected } = await legacyDir()
    let steps = 0
    for (let failAt = 0; ; failAt++) {
      const { dir } = await legacyDir()
      const store = new LevelDocStore(dir, { compactLogBytes: 0 })
      await store.open()
      // First a full compaction into chunks, then one more entry and a compaction that fails.
      await store.compact('big')
      store.append('big', typed(3, 'more'))
      await store.flush()
      const db = store.database
      const { put, batch } = db
      let writes = 0
      const interrupted = () => {
        writes += 1
        return writes > failAt
      }
      db.put = ((...args: Parameters<typeof put>) =>
        interrupted() ? Promise.reject(new Error('interrupted')) : put.apply(db, args)) as typeof put
      db.batch = ((...args: unknown[]) => {
        if (args.length === 0 && interrupted()) {
          const chained = (batch as () => ReturnType<typeof db.batch>).call(db)
          chained.write = () => Promise.reject(new Error('interrupted'))
          return chained
        }
        return (batch as (...a: unknown[]) => unknown).apply(db, args)
      }) as typeof batch
      const outcome = await store.compact('big').then(
        () => 'done',
        (error: Error) => error.message,
      )
      db.put = put
      db.batch = batch
      await store.close()

      const reopened = new LevelDocStore(dir, { compactLogBytes: 0 })
      await reopened.open()
      const loaded = await reopened.load('big')
      expect(contentOf(loaded.update)).toBe(`${expected}more`)
      if (outcome !== 'done') {
        expect(outcome).toBe('interrupted')
        // The old snapshot and the entry it lacks are still there.
        expect(loaded.logEntries).toBe(1)
      }
      await reopened.compact('big')
      expect(contentOf((await reopened.load('big')).update)).toBe(`${expected}more`)
      const keys = await docKeysWhileOpen(reopened)
      await reopened.close()
      // Leftover chunks of the interrupted compaction are gone: one record, its chunks.
      const ids = new Set(
        keys.filter((key) => key.split('\u0000')[2]!.startsWith('c')).map((key) => key.split('.')[0]),
      )
      expect([kinds(keys)[0], ids.size]).toEqual(['b', 1])
      steps += 1
      if (outcome === 'done') break
    }
    // 3 chunk puts and the switching batch were each interrupted once, then one ran through.
    expect(steps).toBe(5)
  })

  it('a record whose chunks are missing is refused, not loaded as a partial snapshot', async () => {
    const { dir } = await legacyDir()
    const store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    await store.compact('big')
    const keys = await docKeysWhileOpen(store)
    await store.database.del(keys.at(-1)!)
    await expect(store.load('big')).rejects.toThrow(CorruptStateError)
    await expect(store.load('big')).rejects.toThrow(/records a snapshot of 3 chunks/)
    // A record that is not one we wrote (here: more bytes than a buffer holds) says so.
    await store.database.put('d\u0000big\u0000b', Buffer.from('{"id":"ab","chunks":1,"bytes":1e15}'))
    await expect(store.load('big')).rejects.toThrow(/not a snapshot record we wrote/)
    await store.close()
  })
})

describe('LevelBackend log batches', () => {
  it('writes a flush of more than 1 MiB as several batches of at most 1 MiB, and every entry is stored', async () => {
    const backend = new LevelBackend(await tempDir('yws-store-'))
    await backend.open(false)
    const batch = vi.spyOn(backend.db, 'batch')
    // 30 × 100 KB: under the size written apart (256 KiB), so each goes into a batch.
    const entries = Array.from({ length: 30 }, (_, i) => ({
      docName: i % 2 ? 'a' : 'b',
      seq: i + 1,
      value: new Uint8Array(100_000).fill(i),
    }))
    await backend.writeBatch(entries)
    // One native WriteBatch string of 3 MB (doubled as it grew) was what a paste's flush cost.
    expect(batch).toHaveBeenCalledTimes(3)
    await backend.writeBatch(entries.slice(0, 5).map((entry) => ({ ...entry, seq: entry.seq + 100 })))
    expect(batch).toHaveBeenCalledTimes(4)
    const stored = [...(await backend.readDoc('a')).log, ...(await backend.readDoc('b')).log]
    expect(stored.map((entry) => entry.seq).sort((x, y) => x! - y!)).toEqual([
      ...entries.map((entry) => entry.seq),
      101,
      102,
      103,
      104,
      105,
    ])
    expect(
      stored.every(
        (entry) => entry.value.byteLength === 100_000 && entry.value[0] === (entry.seq! - 1) % 100,
      ),
    ).toBe(true)
    await backend.close()
  })
})

describe('LevelDocStore readOnly', () => {
  it('writes nothing, not even a boot id, and refuses writes', async () => {
    const dir = await storeWith(['a', 'b'])
    const before = await dumpLevel(dir)
    const store = new LevelDocStore(dir, { readOnly: true })
    await store.open()
    expect(() => store.append('a', new Uint8Array([0, 0]))).toThrow(/read-only/)
    expect(() => store.compact('a')).toThrow(/read-only/)
    const dry = await store.compact('a', { dryRun: true })
    expect(dry.logEntriesMerged).toBe(1)
    expect(await store.verify('a')).toBeUndefined()
    await store.close()
    expect(await dumpLevel(dir)).toEqual(before)
  })

  it('does not create a missing directory', async () => {
    const store = new LevelDocStore(`${await tempDir('yws-store-')}/missing`, { readOnly: true })
    await expect(store.open()).rejects.toThrow(/cannot open LevelDB/)
  })
})
