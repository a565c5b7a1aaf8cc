/**
 * The LevelDB backend of LevelDocStore (classic-level via `level`): the on-disk layout and
 * raw reads and writes, nothing else (policy: base-doc-store.ts).
 *
 * Layout (string keys; U+0000 separates parts, and doc names cannot contain it):
 *   m\0boot                    id of the last process that opened the store (hex ms)
 *   d\0<doc>\0l<boot><counter> one log entry: a Yjs update (order does not matter to Yjs)
 *   d\0<doc>\0s                the snapshot: every compacted entry merged into one update
 *                              (below SNAPSHOT_CHUNKED_BYTES, and every snapshot written
 *                              before chunked snapshots existed)
 *   d\0<doc>\0b                a chunked snapshot's record: JSON {id, chunks, bytes}. The
 *                              snapshot is the concatenation of its chunks; a doc has either
 *                              this record or `s`, never both (one batch switches them)
 *   d\0<doc>\0c<id>.<index>     one chunk (<= SNAPSHOT_CHUNK_BYTES) of the snapshot `id`
 *                              (index: 6 hex digits). Chunks of an id no record names are
 *                              leftovers of an interrupted compaction: never loaded, deleted
 *                              by the doc's next compaction
 *   g\0<doc>                   deletion generation of the doc (decimal); absent: 0. Kept
 *                              outside the doc's range so deleting the doc keeps it
 *   x\0<table>\0<key>          a side table of this instance's other durable state (e.g. the
 *                              webhook outbox); outside every doc range, so listings,
 *                              compaction and export never see it
 * All keys of a doc lie in [d\0<doc>\0, d\0<doc>\u0001), so one iterator — which reads from
 * an implicit LevelDB snapshot — sees a doc's snapshot and log consistently, even while a
 * compaction commits.
 *
 * Why chunks (issue 16): classic-level copies a value on the calling thread both when it
 * writes it (db.put) and when it reads it (the iterator's buffer), so one 50 MB snapshot was
 * one 50 MB copy into fresh memory on the event loop each way (a compaction of a 50 MB doc:
 * a 125 ms read stretch plus a 35 ms put, window profile at load ~3). Chunks are written one
 * `db.put` per event-loop turn and read one per iterator step, so no turn copies more than
 * a chunk. The record is written last, in the batch that deletes the old snapshot and the
 * merged log entries, so a reader or a crash sees the old snapshot with its log or the new
 * one without it, never a partial snapshot (LevelDB applies a batch atomically, and its log
 * keeps writes in order, so a record that survived a crash has every chunk before it).
 * Downgrading to a release before chunks cannot read a doc whose snapshot is chunked.
 *
 * Log keys combine a per-open boot id with the core's sequence number (8 hex digits), so
 * appends need no read to find the next key, and a key read back tells whether this open
 * wrote it and with which sequence number (StoredLogEntry.seq). Compaction deletes exactly
 * the keys it merged, so entries appended meanwhile survive it.
 */
import { constants } from 'node:buffer'
import { Level } from 'level'
import { CorruptStateError, YwsError } from '../errors.js'
import { parseStoredDecimal, parseStoredHex } from '../protocol/stored-integer.js'
import type { DocStats } from './doc-store.js'
import { ensureStoreDirectory, storeOpenError } from './open-error.js'
import type {
  ListOptions,
  LogWrite,
  ReadOptions,
  StoreBackend,
  StoredDoc,
  StoredLogEntry,
} from './store-backend.js'

export const SEP = '\u0000'
export const DOC_PREFIX = `d${SEP}`
const BOOT_KEY = `m${SEP}boot`
/** Key prefixes of per-doc sections other stores keep here (`<p>\0<doc>\0…`): deleted with the doc. */
const DOC_SCOPED_SECTIONS = ['h']
const generationKey = (docName: string) => `g${SEP}${docName}`
const docKeyPrefix = (docName: string) => `${DOC_PREFIX}${docName}${SEP}`
const snapshotKey = (docName: string) => `${docKeyPrefix(docName)}s`
const recordKey = (docName: string) => `${docKeyPrefix(docName)}b`
const chunkKey = (docName: string, id: string, index: number) =>
  `${docKeyPrefix(docName)}c${id}.${index.toString(16).padStart(6, '0')}`
/** The record and every chunk key of a doc: `b`, `c…` (and nothing else: log keys are `l…`). */
const snapshotPartsRange = (docName: string) => ({ gte: recordKey(docName), lt: `${docKeyPrefix(docName)}d` })
const logRange = (docName: string) => ({ gte: `${docKeyPrefix(docName)}l`, lt: `${docKeyPrefix(docName)}m` })
/**
 * From this size a value is written with `db.put`, not in a batch: a log entry (writeBatch)
 * or a compaction's snapshot (commitCompaction). Updates this big come from pastes and big
 * docs; typing never makes them.
 */
const BIG_VALUE_BYTES = 256 * 1024
/**
 * The most log bytes one LevelDB batch carries; a bigger flush is several batches, written
 * one after the other. A batch is one native string that doubles as entries are added, and
 * LevelDB holds it whole until written: while a 26 MB paste (400 × 64 KB entries) was
 * flushed every 100 ms, those strings were 16.8 MB of malloc at the process's peak
 * (heaptrack); measure-paste peak RSS median 306 -> 283 MB (7-9 runs each, load 6-10).
 * Typing flushes stay one batch (one 350-entry flush of 200 docs is ~100 KB).
 */
const LOG_BATCH_BYTES = 1024 * 1024
/**
 * A snapshot this big or bigger is stored in chunks (see the layout above): the same bound
 * as BIG_VALUE_BYTES, so no value of 256 KiB or more is ever added to a batch.
 */
const SNAPSHOT_CHUNKED_BYTES = BIG_VALUE_BYTES
/**
 * Size of a snapshot chunk: the most one event-loop turn copies when a snapshot is written or
 * read. 1 MiB into fresh memory: ~0.2 ms with huge pages, ~4.4 ms without (this VM).
 */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024

/** What the record of a chunked snapshot holds. */
interface SnapshotRecord {
  readonly id: string
  readonly chunks: number
  readonly bytes: number
}
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
  /** Chunked snapshots written by this open, for their ids (`<boot><counter>`). */
  private snapshotsWritten = 0

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

  /**
   * One iterator over the doc's keys (one implicit LevelDB snapshot, so a compaction
   * committing meanwhile is seen whole or not at all). A chunked snapshot's record sorts
   * before its chunks (`b` < `c`), so the chunks are copied into one buffer of the recorded
   * size as they arrive, one per iterator step (the iterator reads ~16 KiB ahead: one chunk).
   *
   * `snapshot: false` (a compaction from the live document, which only needs the log) reads
   * the log's range and the record alone; a snapshot in the `s` layout is read for its size.
   */
  async readDoc(docName: string, options: ReadOptions = {}): Promise<StoredDoc> {
    if (options.snapshot === false) return this.readLog(docName)
    let legacy: Uint8Array | undefined
    let record: SnapshotRecord | undefined
    let assembled: Buffer | undefined
    let chunksRead = 0
    let offset = 0
    const log: StoredLogEntry[] = []
    const prefix = docKeyPrefix(docName)
    const snapKey = snapshotKey(docName)
    const recKey = recordKey(docName)
    const isOurs = this.ownLogKey(docName)
    for await (const [key, value] of this.db.iterator(docRange(docName))) {
      if (key === snapKey) legacy = value
      else if (key === recKey) {
        record = parseRecord(key, value)
        // Not zero-filled: the pages are touched chunk by chunk as the copies below land.
        assembled = Buffer.allocUnsafeSlow(record.bytes)
      } else if (key[prefix.length] === 'c') {
        // A chunk of another id is a leftover of an interrupted compaction: skipped.
        if (!record || !assembled || key !== chunkKey(docName, record.id, chunksRead)) continue
        if (offset + value.byteLength > record.bytes) throw corruptSnapshot(recKey, record, 'more bytes than')
        assembled.set(value, offset)
        offset += value.byteLength
        chunksRead += 1
      } else log.push({ id: key, value, seq: isOurs(key) })
    }
    if (record && (chunksRead !== record.chunks || offset !== record.bytes))
      throw corruptSnapshot(recKey, record, `${chunksRead} chunks of ${offset} bytes for`)
    // Never both (commitCompaction switches them in one batch); the record is the newer layout.
    const snapshot = assembled
      ? new Uint8Array(assembled.buffer, assembled.byteOffset, record!.bytes)
      : legacy
    return { snapshot, snapshotBytes: snapshot?.byteLength ?? 0, log }
  }

  private async readLog(docName: string): Promise<StoredDoc> {
    const log: StoredLogEntry[] = []
    const isOurs = this.ownLogKey(docName)
    for await (const [key, value] of this.db.iterator(logRange(docName))) {
      log.push({ id: key, value, seq: isOurs(key) })
    }
    const recKey = recordKey(docName)
    const record = await this.db.get(recKey)
    const snapshotBytes = record
      ? parseRecord(recKey, record).bytes
      : ((await this.db.get(snapshotKey(docName)))?.byteLength ?? 0)
    return { snapshot: undefined, snapshotBytes, log }
  }

  /** The sequence number of a log key this open wrote (`…\0l<boot><seq>`), else undefined. */
  private ownLogKey(docName: string): (key: string) => number | undefined {
    const ours = this.bootId ? `${docKeyPrefix(docName)}l${this.bootId}` : undefined
    // A tail that is not hex is no key of ours: undefined, like another open's key.
    return (key) =>
      ours !== undefined && key.startsWith(ours) ? parseStoredHex(key.slice(ours.length)) : undefined
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
   * runs on libuv's pool), and one after the other, each put awaited before the next is
   * copied: a flush during a 50 MB push held several 1 MiB frames, and putting them in one
   * loop copied them all in one turn (18-72 ms stretches of `_put` in the push window's
   * profile, load ~5). So a batch with a big entry is not atomic: a failure may leave some
   * entries written. The queue writes a failed batch again under the same keys, so nothing
   * is lost or doubled (store-backend.ts).
   *
   * For the same reason a flush bigger than LOG_BATCH_BYTES is written as several batches,
   * one after the other (see there).
   */
  async writeBatch(entries: readonly LogWrite[]): Promise<void> {
    let start = 0
    while (start < entries.length) {
      let end = start + 1
      let bytes = entries[start]!.value.byteLength
      while (end < entries.length && bytes + entries[end]!.value.byteLength <= LOG_BATCH_BYTES) {
        bytes += entries[end]!.value.byteLength
        end += 1
      }
      await this.writeOneBatch(start === 0 && end === entries.length ? entries : entries.slice(start, end))
      start = end
    }
  }

  private async writeOneBatch(entries: readonly LogWrite[]): Promise<void> {
    const batch = this.db.batch()
    const log = `${SEP}l${this.bootId}`
    const big: [string, Uint8Array][] = []
    try {
      for (const entry of entries) {
        const key = `${DOC_PREFIX}${entry.docName}${log}${entry.seq.toString(16).padStart(8, '0')}`
        if (entry.value.byteLength >= BIG_VALUE_BYTES) big.push([key, entry.value])
        else batch.put(key, entry.value)
      }
    } catch (error) {
      await batch.close()
      throw error
    }
    const written = batch.write()
    try {
      for (const [key, value] of big) await this.db.put(key, value)
    } finally {
      // Settled first: no write may still be running when this rejects (the queue retries).
      await written.catch(() => undefined) // its own rejection is awaited (and thrown) below
    }
    await written
  }

  /**
   * A snapshot below SNAPSHOT_CHUNKED_BYTES is put as `s` in one chained batch with the
   * deletes (like writeBatch: the array form cloned 500 operation objects per doc). A bigger
   * one is written in chunks first, one `db.put` per event-loop turn (classic-level copies
   * each value on the calling thread: a 50 MB put was one 35-470 ms stretch), then one batch
   * puts its record and deletes the previous snapshot (`s`, or the previous record's chunks),
   * chunks left by interrupted compactions, and the merged entries. Either way the switch is
   * one atomic batch: a reader or a crash sees the old snapshot and log or the new snapshot
   * without the merged entries. Chunks written before a crash that no record names are never
   * loaded and go at the doc's next compaction.
   */
  async commitCompaction(
    docName: string,
    snapshot: Uint8Array,
    merged: readonly StoredLogEntry[],
  ): Promise<void> {
    // Record and chunk keys as they are now: the previous snapshot's and any leftovers.
    const previous: string[] = []
    for await (const key of this.db.keys(snapshotPartsRange(docName))) previous.push(key)
    let record: SnapshotRecord | undefined
    if (snapshot.byteLength >= SNAPSHOT_CHUNKED_BYTES) {
      this.snapshotsWritten += 1
      const id = `${this.bootId}${this.snapshotsWritten.toString(16).padStart(8, '0')}`
      const chunks = Math.ceil(snapshot.byteLength / SNAPSHOT_CHUNK_BYTES)
      for (let index = 0; index < chunks; index++) {
        const start = index * SNAPSHOT_CHUNK_BYTES
        await this.db.put(
          chunkKey(docName, id, index),
          snapshot.subarray(start, start + SNAPSHOT_CHUNK_BYTES),
        )
      }
      record = { id, chunks, bytes: snapshot.byteLength }
    }
    const batch = this.db.batch()
    try {
      if (record) {
        batch.put(recordKey(docName), Buffer.from(JSON.stringify(record)))
        batch.del(snapshotKey(docName))
      } else batch.put(snapshotKey(docName), snapshot)
      for (const key of previous) if (key !== recordKey(docName) || !record) batch.del(key)
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
      const kind = key[end + 1]
      if (kind === 's') current.snapshotBytes = value.byteLength
      else if (kind === 'b') current.snapshotBytes = parseRecord(key, value).bytes
      else if (kind === 'c')
        continue // counted by its record; leftovers of interrupted compactions are not
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
 * A chunked snapshot's record, read back strictly.
 * @throws CorruptStateError naming the key and the value when it is not a record we wrote
 */
function parseRecord(key: string, value: Uint8Array): SnapshotRecord {
  const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  const { id, chunks, bytes } = (parsed ?? {}) as Partial<Record<keyof SnapshotRecord, unknown>>
  if (
    typeof id !== 'string' ||
    !/^[0-9a-f]+$/.test(id) ||
    !Number.isSafeInteger(chunks) ||
    !Number.isSafeInteger(bytes) ||
    (chunks as number) < 1 ||
    (bytes as number) < 1 ||
    // More than one buffer can hold: allocating it would throw a RangeError, not say why.
    (bytes as number) > constants.MAX_LENGTH
  ) {
    throw new CorruptStateError(
      `LevelDB key ${JSON.stringify(key)} holds ${JSON.stringify(text.slice(0, 200))}, not a snapshot record we wrote`,
    )
  }
  return { id, chunks: chunks as number, bytes: bytes as number }
}

function corruptSnapshot(key: string, record: SnapshotRecord, found: string): CorruptStateError {
  return new CorruptStateError(
    `LevelDB key ${JSON.stringify(key)} records a snapshot of ${record.chunks} chunks and ${record.bytes} bytes; found ${found} it`,
  )
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
