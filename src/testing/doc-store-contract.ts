/**
 * The DocStore contract: one suite every storage backend runs (y-redis / abstract-level
 * style). Framework-agnostic — the caller passes its runner's `describe`, `it` and `expect`,
 * so this module never imports a test runner:
 *
 *   import { describe, expect, it } from 'vitest'
 *   import { docStoreContract } from 'yjs-cluster-server/testing'
 *   docStoreContract('PostgresDocStore', async () => {
 *     const schema = await freshSchema()
 *     return { create: (options) => new PostgresDocStore(schema, options) }
 *   }, { describe, it, expect })
 *
 * `create` is called more than once per place (reopen tests): stores created on one place
 * must see the same data, and one place is held by one open store at a time.
 */
import * as Y from 'yjs'
import { YwsError } from '../errors.js'
import type { DocStore } from '../storage/doc-store.js'
import { StoreLockedError } from '../storage/open-error.js'

/** What the suite asks of a store it creates (pass them on to your store's options). */
export interface ContractStoreOptions {
  readonly flushIntervalMs: number
  /** Automatic compaction threshold in log entries (huge: off). */
  readonly compactLogEntries: number
}

/** One storage place (a directory, a schema, a database) for the duration of a test. */
export interface DocStorePlace {
  create(options: ContractStoreOptions): DocStore
}

export type DocStoreFactory = () => DocStorePlace | Promise<DocStorePlace>

type ErrorClass = abstract new (...args: never[]) => unknown

/** The subset of Jest/Vitest-style assertions the suite uses. */
export interface ContractAssertion {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toMatchObject(expected: object): void
  toBeLessThan(expected: number): void
  toBeUndefined(): void
  toThrow(expected?: RegExp | string | ErrorClass): void
  readonly rejects: {
    toThrow(expected?: RegExp | string): Promise<void>
    toBeInstanceOf(expected: ErrorClass): Promise<void>
    toMatchObject(expected: object): Promise<void>
  }
}

export interface ContractRunner {
  describe(name: string, body: () => void): void
  it(name: string, body: () => Promise<void>): void
  expect(actual: unknown): ContractAssertion
}

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

const textOf = (update: Uint8Array) => loadInto(update).getText('t').toString()

export function docStoreContract(name: string, factory: DocStoreFactory, t: ContractRunner): void {
  const { describe, it, expect } = t
  const defaults: ContractStoreOptions = { flushIntervalMs: 20, compactLogEntries: 1_000_000 }

  async function place() {
    const where = await factory()
    return {
      create: (options: Partial<ContractStoreOptions> = {}) => where.create({ ...defaults, ...options }),
      open: async (options: Partial<ContractStoreOptions> = {}) => {
        const store = where.create({ ...defaults, ...options })
        await store.open()
        return store
      },
    }
  }

  async function names(store: DocStore, options: { prefix?: string; after?: string } = {}) {
    const listed: string[] = []
    for await (const stats of store.listDocs(options)) listed.push(stats.docName)
    return listed
  }

  describe(`DocStore contract: ${name}`, () => {
    it('loads an unknown doc as empty', async () => {
      const store = await (await place()).open()
      const loaded = await store.load('nothing-here')
      expect(textOf(loaded.update)).toBe('')
      expect(loaded.logEntries).toBe(0)
      await store.close()
    })

    it('persists appended updates across a reopen', async () => {
      const where = await place()
      const store = await where.open()
      const { doc, updates } = typing(300)
      for (const update of updates) store.append('a/doc', update)
      await store.close()
      const reopened = await where.open()
      const loaded = await reopened.load('a/doc')
      expect(loaded.logEntries).toBe(300)
      expect(Y.encodeStateAsUpdate(loadInto(loaded.update))).toEqual(Y.encodeStateAsUpdate(doc))
      await reopened.close()
    })

    it('keeps docs whose names are prefixes of each other apart', async () => {
      const store = await (await place()).open()
      const a = typing(5, 1)
      const b = typing(9, 2)
      for (const update of a.updates) store.append('doc', update)
      for (const update of b.updates) store.append('doc2', update)
      await store.flush()
      expect(textOf((await store.load('doc')).update)).toBe(a.doc.getText('t').toString())
      expect(textOf((await store.load('doc2')).update)).toBe(b.doc.getText('t').toString())
      const listed = []
      for await (const stats of store.listDocs()) listed.push([stats.docName, stats.logEntries])
      expect(listed).toEqual([
        ['doc', 5],
        ['doc2', 9],
      ])
      await store.close()
    })

    it('lists in UTF-8 order (names above U+FFFF too), by prefix, resuming after a name', async () => {
      const store = await (await place()).open()
      const all = ['a', 'b', 'b/x', 'ba', 'c', '\uffefz', '\u{1F600} emoji', '\u{10FFFF}']
      for (const docName of all) store.append(docName, typing(1).updates[0]!)
      await store.flush()
      const sorted = [...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      expect(await names(store)).toEqual(sorted)
      expect(await names(store, { prefix: 'b' })).toEqual(['b', 'b/x', 'ba'])
      expect(await names(store, { prefix: '\u{1F600}' })).toEqual(['\u{1F600} emoji'])
      expect(await names(store, { after: 'b' })).toEqual(sorted.slice(2))
      expect(await names(store, { prefix: 'b', after: 'b/x' })).toEqual(['ba'])
      expect(await names(store, { prefix: 'b', after: 'a' })).toEqual(['b', 'b/x', 'ba'])
      await store.close()
    })

    it('deleteDoc removes snapshot, log and queued entries of one doc only, and records the generation', async () => {
      const where = await place()
      const store = await where.open()
      for (const update of typing(20, 1).updates) store.append('doc', update)
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
      const reopened = await where.open()
      expect((await reopened.load('doc')).logEntries).toBe(0)
      expect(await reopened.generation('doc')).toBe(3)
      expect(await names(reopened)).toEqual(['doc2'])
      await reopened.close()
    })

    it('compaction keeps the document identical and leaves one snapshot', async () => {
      const where = await place()
      const store = await where.open()
      const { doc, updates } = typing(2_000)
      for (const update of updates) store.append('big', update)
      const result = await store.compact('big')
      expect(result).toMatchObject({ compacted: true, logEntriesMerged: 2_000 })
      expect(result.bytesAfter).toBeLessThan(result.bytesBefore)
      await store.close()
      const reopened = await where.open()
      const loaded = await reopened.load('big')
      expect(loaded.logEntries).toBe(0)
      const reloaded = loadInto(loaded.update)
      expect(reloaded.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(reloaded)).toEqual(Y.encodeStateVector(doc))
      await reopened.close()
    })

    it('dry-run compaction writes nothing', async () => {
      const store = await (await place()).open()
      for (const update of typing(50).updates) store.append('d', update)
      const result = await store.compact('d', { dryRun: true })
      expect(result).toMatchObject({ compacted: false, logEntriesMerged: 50 })
      expect((await store.load('d')).logEntries).toBe(50)
      await store.close()
    })

    it('updates appended during a compaction survive it', async () => {
      const store = await (await place()).open()
      const { doc, updates } = typing(1_000)
      for (const update of updates.slice(0, 900)) store.append('racy', update)
      const compaction = store.compact('racy')
      for (const update of updates.slice(900)) store.append('racy', update)
      await compaction
      await store.flush()
      expect(textOf((await store.load('racy')).update)).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('compacts automatically past the log threshold', async () => {
      const store = await (await place()).open({ compactLogEntries: 100 })
      const { doc, updates } = typing(250)
      for (const update of updates) store.append('auto', update)
      await store.flush()
      // The automatic compaction is asynchronous; an explicit one joins or follows it.
      await store.compact('auto')
      const loaded = await store.load('auto')
      expect(loaded.logEntries).toBe(0)
      expect(textOf(loaded.update)).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('merges and compacts big documents on the worker pool', async () => {
      const store = await (await place()).open()
      const doc = new Y.Doc()
      const updates: Uint8Array[] = []
      doc.on('update', (update: Uint8Array) => updates.push(update))
      for (let i = 0; i < 40; i++) doc.getText('t').insert(0, `${i}`.padEnd(20_000, '.'))
      doc.getText('t').delete(0, 100_000)
      for (const update of updates) store.append('huge', update)
      await store.flush()
      expect(textOf((await store.load('huge')).update)).toBe(doc.getText('t').toString())
      const result = await store.compact('huge')
      expect(result.bytesAfter).toBeLessThan(result.bytesBefore)
      expect(textOf((await store.load('huge')).update)).toBe(doc.getText('t').toString())
      await store.close()
    })

    it('compacts an open doc from its live state, keeping entries appended after that state', async () => {
      const store = await (await place()).open()
      const live = new Y.Doc()
      live.on('update', (update: Uint8Array) => store.append('live', update))
      for (let i = 0; i < 300; i++) live.getText('t').insert(0, String(i % 10))
      let asked = 0
      store.useLiveState((docName) => {
        if (docName !== 'live') return undefined
        asked += 1
        const state = Y.encodeStateAsUpdate(live)
        live.getText('t').insert(0, 'after') // appended after the state was taken: must stay
        return state
      })
      const result = await store.compact('live')
      expect([asked, result.compacted, result.logEntriesMerged]).toEqual([1, true, 300])
      await store.flush()
      const loaded = await store.load('live')
      expect(loaded.logEntries).toBe(1)
      expect(textOf(loaded.update)).toBe(live.getText('t').toString())
      // A dry run and gc: false never use the live state (they need the log's own merge).
      await store.compact('live', { dryRun: true })
      await store.compact('live', { gc: false })
      expect(asked).toBe(1)
      await store.close()
    })

    it('a live state holding pending updates (missing dependencies) keeps them', async () => {
      const store = await (await place()).open()
      const author = typing(3, 7)
      const live = new Y.Doc()
      // The second and third edit arrive before the first: the live doc holds them pending.
      for (const update of author.updates.slice(1)) {
        Y.applyUpdate(live, update)
        store.append('pend', update)
      }
      store.useLiveState(() => Y.encodeStateAsUpdate(live))
      expect((await store.compact('pend')).compacted).toBe(true)
      store.append('pend', author.updates[0]!)
      await store.flush()
      expect(textOf((await store.load('pend')).update)).toBe(author.doc.getText('t').toString())
      await store.close()
    })

    it('refuses a second open of the same place with StoreLockedError', async () => {
      const where = await place()
      const store = await where.open()
      await expect(where.create().open()).rejects.toBeInstanceOf(StoreLockedError)
      await store.close()
    })

    it('rejects invalid doc names', async () => {
      const store = await (await place()).open()
      await expect(store.load('bad\u0000name')).rejects.toThrow(/control/)
      await store.close()
    })

    it('close() is one operation; afterwards every call is refused with YWS_ERR_CLOSED', async () => {
      const where = await place()
      const store = await where.open()
      store.append('doc', typing(1).updates[0]!)
      const first = store.close()
      expect(store.close()).toBe(first)
      expect(() => store.append('doc', typing(1, 2).updates[0]!)).toThrow(YwsError)
      expect(() => store.compact('doc')).toThrow(/closed/)
      await first
      expect(store.isOpen).toBe(false)
      await expect(store.load('doc')).rejects.toMatchObject({ code: 'YWS_ERR_CLOSED' })
      await expect(store.open()).rejects.toMatchObject({ code: 'YWS_ERR_CLOSED' })
      // Really closed: the place is free again, and what was appended before close is there.
      const reopened = await where.open()
      expect((await reopened.load('doc')).logEntries).toBe(1)
      await reopened.close()
    })

    it('a store never opened closes at once and refuses work', async () => {
      const store = (await place()).create()
      await store.close()
      await store.close()
      expect(() => store.append('doc', typing(1).updates[0]!)).toThrow(/not open/)
    })
  })
}
