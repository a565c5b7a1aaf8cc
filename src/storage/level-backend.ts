/**
 * The LevelDB backend of LevelDocStore (classic-level via `level`): the on-disk layout and
 * raw reads and writes, nothing else (policy: base-doc-store.ts).
 *
 * Layout (string keys; U+0000 separates parts, and doc names cannot contain it):
 *   m\0boot                    id of the last process that opened the store (hex ms)
 *   d\0<doc>\0l<boot><counter> one log entry: a Yjs update (order does not matter to Yjs)
 *   d\0<doc>\0s                the snapshot: every compacted entry merged into one update
 *   g\0<doc>                   deletion generation of the doc (decimal); absent: 0. Kept
 *                              outside the doc's range so deleting the doc keeps it
 *   x\0<table>\0<key>          a side table of this instance's other durable state (e.g. the
 *                              webhook outbox); outside every doc range, so listings,
 *                              compaction and export never see it
 * All keys of a doc lie in [d\0<doc>\0, d\0<doc>\u0001), so one iterator — which reads from
 * an implicit LevelDB snapshot — sees a doc's snapshot and log consistently, even while a
 * compaction commits.
 *
 * Log keys combine a per-open boot id with the core's sequence number (8 hex digits), so
 * appends need no read to find the next key, and a key read back tells whether this open
 * wrote it and with which sequence number (StoredLogEntry.seq). Compaction deletes exactly
 * the keys it merged, so entries appended meanwhile survive it.
 */
import { Level } from 'level'
import { CorruptStateError, YwsError } from '../errors.js'
import { parseStoredDecimal, parseStoredHex } from '../protocol/stored-integer.js'
import type { DocStats } from './doc-store.js'
import { ensureStoreDirectory, storeOpenError } from './open-error.js'
import type { ListOptions, LogWrite, StoreBackend, StoredDoc, StoredLogEntry } from './store-backend.js'

export const SEP = '\u0000'
export const DOC_PREFIX = `d${SEP}`
const BOOT_KEY = `m${SEP}boot`
/** Key prefixes of per-doc sections other stores keep here (`<p>\0<doc>\0…`): deleted with the doc. */
const DOC_SCOPED_SECTIONS = ['h']
const generationKey = (docName: string) => `g${SEP}${docName}`
const docKeyPrefix = (docName: string) => `${DOC_PREFIX}${docName}${SEP}`
const snapshotKey = (docName: string) => `${docKeyPrefix(docName)}s`
/**
 * From this size a value is written with `db.put`, not in a batch: a log entry (writeBatch)
 * or a compaction's snapshot (commitCompaction). Updates this big come from pastes and big
 * docs; typing never makes them.
 */
const BIG_VALUE_BYTES = 256 * 1024
const docRange = (docName: string) => ({ gte: docKeyPrefix(docName), lt: `${DOC_PREFIX}${docName}\u0001` })

/**
 * The least string above every string that starts with `prefix`, in LevelDB's order (UTF-8
 * bytes, which is code point order). `prefix + '\uffff'` is not enough: names starting
 * with an astral character (an emoji) sort above U+FFFF in UTF-8.
 */
export function prefixEnd(prefix: string): string {
  const points = [...prefix]
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!
    if (last < 0x10ffff) {
      // Skip the surrogate block: a lone surrogate would be encoded as U+FFFD.
      return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1)
    }
  }
  throw new RangeError('no key range above an empty or all-U+10FFFF prefix')
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export class LevelBackend implements StoreBackend {
  /**
   * Created by open(), not the constructor: a Level instance opens itself (creating the
   * directory) a microtask after construction, and building a server must touch nothing.
   */
  private level: Level<string, Uint8Array> | undefined
  /** Empty when read-only: nothing is written, so no key is this open's. */
  private bootId = ''

  constructor(readonly location: string) {}

  get db(): Level<string, Uint8Array> {
    if (!this.level)
      throw new YwsError('YWS_ERR_CLOSED', `the document store at ${this.location} is not open`)
    return this.level
  }

  async open(readOnly: boolean): Promise<void> {
    this.level ??= new Level<string, Uint8Array>(this.location, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    })
    if (!readOnly) await ensureStoreDirectory(this.location)
    try {
      await this.level.open({ createIfMissing: !readOnly })
    } catch (error) {
      throw storeOpenError(this.location, error)
    }
    if (readOnly) return
    // A boot id greater than every earlier one keeps log keys unique across restarts even
    // if the wall clock went backwards.
    const previous = await this.db.get(BOOT_KEY)
    const previousBoot = previous ? storedInteger(BOOT_KEY, previous, parseStoredHex) : 0
    this.bootId = Math.max(Date.now(), previousBoot + 1)
      .toString(16)
      .padStart(12, '0')
    await this.db.put(BOOT_KEY, Buffer.from(this.bootId))
  }

  async close(): Promise<void> {
    await this.level?.close()
  }

  async readDoc(docName: string): Promise<StoredDoc> {
    let snapshot: Uint8Array | undefined
    const log: StoredLogEntry[] = []
    const snapKey = snapshotKey(docName)
    // `…\0l<boot>`: the keys this open wrote, whose tail is the sequence number.
    const ours = this.bootId ? `${docKeyPrefix(docName)}l${this.bootId}` : undefined
    for await (const [key, value] of this.db.iterator(docRange(docName))) {
      if (key === snapKey) snapshot = value
      else {
        const seq =
          // A tail that is not hex is no key of ours: undefined, like another open's key.
          ours !== undefined && key.startsWith(ours) ? parseStoredHex(key.slice(ours.length)) : undefined
        log.push({ id: key, value, seq })
      }
    }
    return { snapshot, log }
  }

  /**
   * A chained batch hands each entry to LevelDB's native WriteBatch as it goes; the array
   * form clones every operation object first (abstract-level #arrayBatch). 350-entry
   * batches over 200 docs: 2.7-2.85 -> 2.0-2.6 us of CPU per entry, 4.9-6.1 -> 3.5-4.3 us on
   * the main thread (3 runs each, 1 core, loaded box). Atomic like the array form.
   *
   * Entries of BIG_VALUE_BYTES or more are put on their own, beside the batch: in a batch
   * classic-level copies a value twice on the event loop (into a fresh buffer, then into
   * the batch's growing string, reallocated as it grows), `db.put` once (the write itself
   * runs on libuv's pool). So a batch with a big entry is not atomic: a failure may leave
   * some entries written. The queue writes a failed batch again under the same keys, so
   * nothing is lost or doubled (store-backend.ts).
   */
  async writeBatch(entries: readonly LogWrite[]): Promise<void> {
    const batch = this.db.batch()
    const log = `${SEP}l${this.bootId}`
    const puts: Promise<void>[] = []
    try {
      for (const entry of entries) {
        const key = `${DOC_PREFIX}${entry.docName}${log}${entry.seq.toString(16).padStart(8, '0')}`
        if (entry.value.byteLength >= BIG_VALUE_BYTES) puts.push(this.db.put(key, entry.value))
        else batch.put(key, entry.value)
      }
    } catch (error) {
      await Promise.allSettled([batch.close(), ...puts])
      throw error
    }
    // allSettled first: no put may still be running when this rejects (the queue retries).
    const settled = await Promise.allSettled([batch.write(), ...puts])
    for (const result of settled) if (result.status === 'rejected') throw result.reason
  }

  /**
   * A chained batch, like writeBatch (the array form cloned 500 operation objects per doc).
   * A snapshot of BIG_VALUE_BYTES or more is put on its own first, then the deletes are
   * batched: classic-level copies a value on the calling thread as it is added to a batch
   * (into a fresh buffer, then into the batch's growing string, which a following delete
   * may reallocate), three copies of the snapshot on the event loop; `db.put` copies it
   * once and writes it on libuv's pool. 50 MB on this box: 550-1,000 ms of event loop in
   * the batch, one copy is a third of that (fresh pages cost ~5 ms per MiB here).
   */
  async commitCompaction(
    docName: string,
    snapshot: Uint8Array,
    merged: readonly StoredLogEntry[],
  ): Promise<void> {
    const separate = snapshot.byteLength >= BIG_VALUE_BYTES
    if (separate) await this.db.put(snapshotKey(docName), snapshot)
    if (separate && merged.length === 0) return
    const batch = this.db.batch()
    try {
      if (!separate) batch.put(snapshotKey(docName), snapshot)
      for (const entry of merged) batch.del(entry.id)
    } catch (error) {
      await batch.close()
      throw error
    }
    await batch.write()
  }

  async *listDocs(options: ListOptions): AsyncIterable<DocStats> {
    const prefix = `${DOC_PREFIX}${options.prefix ?? ''}`
    // Keys of doc X lie below `d\0X\u0001`, and every later doc name sorts above it (names
    // contain no control characters).
    const start = `${DOC_PREFIX}${options.after ?? ''}\u0001`
    const gte = options.after !== undefined && utf8Compare(start, prefix) > 0 ? start : prefix
    let current: { docName: string; snapshotBytes: number; logEntries: number; logBytes: number } | undefined
    for await (const [key, value] of this.db.iterator({ gte, lt: prefixEnd(prefix) })) {
      const end = key.indexOf(SEP, DOC_PREFIX.length)
      if (end < 0) continue
      const docName = key.slice(DOC_PREFIX.length, end)
      if (current?.docName !== docName) {
        if (current) yield current
        current = { docName, snapshotBytes: 0, logEntries: 0, logBytes: 0 }
      }
      if (key[end + 1] === 's') current.snapshotBytes = value.byteLength
      else {
        current.logEntries += 1
        current.logBytes += value.byteLength
      }
    }
    if (current) yield current
  }

  async deleteDoc(docName: string, generation: number): Promise<void> {
    const keys: string[] = []
    for await (const key of this.db.keys(docRange(docName))) keys.push(key)
    // Sections other stores keep per doc in this database go with it: version history
    // (`h\0<doc>\0…`, src/history/checkpoint-store.ts). Deleting a doc deletes its past too.
    for (const section of DOC_SCOPED_SECTIONS) {
      const range = { gte: `${section}${SEP}${docName}${SEP}`, lt: `${section}${SEP}${docName}\u0001` }
      for await (const key of this.db.keys(range)) keys.push(key)
    }
    await this.db.batch([
      ...keys.map((key) => ({ type: 'del' as const, key })),
      { type: 'put' as const, key: generationKey(docName), value: Buffer.from(String(generation)) },
    ])
  }

  async generation(docName: string): Promise<number> {
    const value = await this.db.get(generationKey(docName))
    return value ? storedInteger(generationKey(docName), value, parseStoredDecimal) : 0
  }
}

/**
 * A counter this backend wrote, read back strictly (protocol/stored-integer.ts).
 * @throws CorruptStateError naming the key and the value when it is not what we write: a
 *   deletion generation read as 0 would bring a deleted doc back, a boot id read as NaN
 *   would name every log key of this open "NaN"
 */
function storedInteger(key: string, value: Uint8Array, parse: (text: string) => number | undefined): number {
  const text = Buffer.from(value).toString()
  const parsed = parse(text)
  if (parsed === undefined) {
    throw new CorruptStateError(
      `LevelDB key ${JSON.stringify(key)} holds ${JSON.stringify(text)}, not a counter we wrote`,
    )
  }
  return parsed
}
