import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
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
    expect(await keysOf()).toEqual(['d\u0000d\u0000s'])

    store = new LevelDocStore(dir, { compactLogBytes: 0 })
    await store.open()
    const reloaded = await store.load('d')
    expect([reloaded.logEntries, reloaded.snapshotBytes > 256 * 1024]).toEqual([0, true])
    expect(textsOf(reloaded.update)).toEqual(expected)
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
