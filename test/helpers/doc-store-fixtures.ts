/**
 * Builds real LevelDB stores full of un-compacted update logs (through LevelDocStore, the
 * way a server writes them) and reads back what each document is, for comparisons before
 * and after compaction.
 */
import { Level } from 'level'
import * as Y from 'yjs'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'

export interface FixtureOptions {
  readonly docs: number
  readonly updatesPerDoc: number
  /** Doc names; default `doc-0000`... Extra names get the same treatment. */
  readonly names?: readonly string[]
  readonly seed?: number
}

/** Small deterministic PRNG (mulberry32), so a failing store can be rebuilt exactly. */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Writes `updatesPerDoc` updates per doc the way an editor produces them: one update per
 * keystroke, typed in runs at a cursor that jumps now and then, with backspaces and
 * selection deletes (deleted content for garbage collection) and some map writes.
 */
export async function buildStore(dataDir: string, options: FixtureOptions): Promise<string[]> {
  const names = options.names
    ? [...options.names]
    : Array.from({ length: options.docs }, (_, i) => `doc-${String(i).padStart(4, '0')}`)
  const random = prng(options.seed ?? 42)
  const store = new LevelDocStore(dataDir, { compactLogBytes: 0, flushIntervalMs: 60_000 })
  await store.open()
  try {
    for (const name of names) {
      const doc = new Y.Doc()
      doc.on('update', (update: Uint8Array) => store.append(name, update))
      editLikeAUser(doc, options.updatesPerDoc, random)
      doc.destroy()
      await store.flush()
    }
  } finally {
    await store.close()
  }
  return names
}

/** Makes exactly `updates` single-edit transactions on `doc`. */
export function editLikeAUser(doc: Y.Doc, updates: number, random: () => number): void {
  const text = doc.getText('t')
  const map = doc.getMap('m')
  const letters = 'abcdefghijklmnopqrstuvwxyz     '
  let cursor = 0
  for (let i = 0; i < updates; i++) {
    const roll = random()
    if (roll < 0.03) {
      cursor = Math.floor(random() * (text.length + 1))
      map.set('cursor', cursor)
    } else if (roll < 0.1 && cursor > 0) {
      text.delete(cursor - 1, 1)
      cursor -= 1
    } else if (roll < 0.11 && text.length > 20) {
      const at = Math.floor(random() * (text.length - 10))
      text.delete(at, 10)
      cursor = Math.min(cursor, text.length)
    } else {
      text.insert(cursor, letters[Math.floor(random() * letters.length)]!)
      cursor += 1
    }
  }
}

export interface DocImage {
  /** Y.encodeStateAsUpdate of the doc as a server loads it. */
  readonly state: Buffer
  readonly text: string
  readonly json: string
}

/** What a doc is, as loaded from `update` (the server's view). */
export function docImage(update: Uint8Array): DocImage {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  const image = {
    state: Buffer.from(Y.encodeStateAsUpdate(doc)),
    text: doc.getText('t').toString(),
    json: JSON.stringify(doc.toJSON()),
  }
  doc.destroy()
  return image
}

/** Every doc's image, read through a store opened read-only (no write, not even a boot id). */
export async function readImages(dataDir: string, names: readonly string[]): Promise<Map<string, DocImage>> {
  const store = new LevelDocStore(dataDir, { readOnly: true })
  await store.open()
  try {
    const images = new Map<string, DocImage>()
    for (const name of names) images.set(name, docImage((await store.load(name)).update))
    return images
  } finally {
    await store.close()
  }
}

/** Every key and value of a LevelDB directory, hex-encoded, for byte-level before/after checks. */
export async function dumpLevel(dataDir: string): Promise<[string, string][]> {
  const db = new Level<string, Uint8Array>(dataDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open({ createIfMissing: false })
  try {
    const entries: [string, string][] = []
    for await (const [key, value] of db.iterator()) entries.push([key, Buffer.from(value).toString('hex')])
    return entries
  } finally {
    await db.close()
  }
}

/** Per-doc log entry counts, straight from the keys. */
export async function logEntryCounts(dataDir: string): Promise<Map<string, number>> {
  const store = new LevelDocStore(dataDir, { readOnly: true })
  await store.open()
  try {
    const counts = new Map<string, number>()
    for await (const stats of store.listDocs()) counts.set(stats.docName, stats.logEntries)
    return counts
  } finally {
    await store.close()
  }
}
