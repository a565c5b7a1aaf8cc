/**
 * The template methods a storage backend implements for BaseDocStore (abstract-level style):
 * raw reads and writes of one database, nothing else. Everything every backend needs — doc
 * name checks, the lifecycle, batching and the flush interval, the retry that never drops an
 * update, compaction thresholds, single-flight, verification, statistics — lives in the core
 * (base-doc-store.ts), so a new backend (Postgres, S3…) is this interface and nothing more.
 *
 * Identity of log entries: the core numbers every append of one open store with a sequence
 * number (1, 2, 3…). A backend must store an entry so that reading it back in the same open
 * store yields the same `seq`; entries written by an earlier open (or another process) come
 * back with `seq: undefined`. The core relies on this to compact from a live document: an
 * entry is covered by a state taken at sequence N iff it is older than this open or `seq <= N`.
 */
import type { DocStats } from './doc-store.js'

/** One log entry as stored. `id` is the backend's own handle (e.g. its key), opaque to the core. */
export interface StoredLogEntry {
  readonly id: string
  readonly value: Uint8Array
  /** The core's sequence number when written by this open store; undefined for older entries. */
  readonly seq: number | undefined
}

/** A doc as stored, read consistently (a compaction committing meanwhile is seen whole or not at all). */
export interface StoredDoc {
  /** Undefined when there is none, or when the read asked for none (ReadOptions.snapshot). */
  readonly snapshot: Uint8Array | undefined
  /** The snapshot's size even when it was not read (0: none). Optional for older backends. */
  readonly snapshotBytes?: number
  readonly log: readonly StoredLogEntry[]
}

export interface ReadOptions {
  /**
   * false: the caller needs the log and the snapshot's size, not its bytes (a compaction from
   * the live document). A backend may return the snapshot anyway. Default true.
   */
  readonly snapshot?: boolean
}

/** One append to write. */
export interface LogWrite {
  readonly docName: string
  readonly seq: number
  readonly value: Uint8Array
}

export interface ListOptions {
  readonly prefix?: string
  /** Resume after this doc name (exclusive), for paging with short-lived iterators. */
  readonly after?: string
}

export interface StoreBackend {
  /** Where the data lives, for messages (a directory, a URL without secrets, "memory"). */
  readonly location: string
  /** Opens the database. readOnly: write nothing, create nothing. */
  open(readOnly: boolean): Promise<void>
  /** Closes it; called once, after the last write. */
  close(): Promise<void>
  readDoc(docName: string, options?: ReadOptions): Promise<StoredDoc>
  /**
   * Writes every entry. A rejection may leave some written (the LevelDB backend puts big
   * entries apart from its batch): the caller writes the same entries again under the same
   * keys (write-queue.ts), which changes nothing for those already there.
   */
  writeBatch(entries: readonly LogWrite[]): Promise<void>
  /**
   * `snapshot` becomes the doc's snapshot and exactly the `merged` entries vanish; never an
   * entry before the snapshot is written. A backend may do it in two writes (snapshot, then
   * the deletes): a reader or a crash in between sees the snapshot and entries it already
   * holds, which load to the same doc (Yjs updates are idempotent).
   */
  commitCompaction(docName: string, snapshot: Uint8Array, merged: readonly StoredLogEntry[]): Promise<void>
  /** Stats of the stored docs in UTF-8 (code point) name order, streamed. */
  listDocs(options: ListOptions): AsyncIterable<DocStats>
  /** Atomically removes every entry of the doc and records `generation` for it. */
  deleteDoc(docName: string, generation: number): Promise<void>
  /** The recorded deletion generation (0: none). */
  generation(docName: string): Promise<number>
}
