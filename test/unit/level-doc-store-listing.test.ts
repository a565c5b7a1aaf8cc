import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelDocStore, prefixEnd } from '../../src/storage/level-doc-store.js'
import { dumpLevel } from '../helpers/doc-store-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

const NAMES = ['a', 'b', 'b/x', 'ba', 'c', '\uffefz', '\u{1F600} emoji', '\u{10FFFF}']

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

async function list(store: LevelDocStore, options: { prefix?: string; after?: string } = {}) {
  const names: string[] = []
  for await (const stats of store.listDocs(options)) names.push(stats.docName)
  return names
}

describe('LevelDocStore.listDocs', () => {
  it('lists every doc in UTF-8 order, including names starting above U+FFFF', async () => {
    const store = new LevelDocStore(await storeWith(NAMES), { readOnly: true })
    await store.open()
    const sorted = [...NAMES].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect(await list(store)).toEqual(sorted)
    expect(await list(store, { prefix: 'b' })).toEqual(['b', 'b/x', 'ba'])
    expect(await list(store, { prefix: '\u{1F600}' })).toEqual(['\u{1F600} emoji'])
    await store.close()
  })

  it('resumes after a name, so callers can page with short-lived iterators', async () => {
    const store = new LevelDocStore(await storeWith(NAMES), { readOnly: true })
    await store.open()
    expect(await list(store, { after: 'b' })).toEqual([
      'b/x',
      'ba',
      'c',
      '\uffefz',
      '\u{1F600} emoji',
      '\u{10FFFF}',
    ])
    expect(await list(store, { prefix: 'b', after: 'b/x' })).toEqual(['ba'])
    expect(await list(store, { prefix: 'b', after: 'a' })).toEqual(['b', 'b/x', 'ba'])
    await store.close()
  })

  it('prefixEnd bounds exactly the keys that start with the prefix', () => {
    expect(prefixEnd('ab')).toBe('ac')
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000')
    expect(prefixEnd('a\u{10FFFF}')).toBe('b')
    expect(() => prefixEnd('')).toThrow(RangeError)
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
