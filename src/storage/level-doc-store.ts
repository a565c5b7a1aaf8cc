/**
 * DocStore on LevelDB (classic-level via `level`). Owns the on-disk layout, the write
 * batching and per-doc compaction.
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
 * Log keys combine a per-open boot id with a counter, so appends need no read to find the
 * next sequence number. Compaction deletes exactly the keys it merged, so entries appended
 * meanwhile survive it.
 */

import { Level } from 'level'
import * as Y from 'yjs'
import { assertDocName } from '../doc-name.js'
import { YwsError } from '../errors.js'
import { WorkerPool } from '../workers/worker-pool.js'
import type {
  CompactionOptions,
  CompactionResult,
  DocStats,
  DocStore,
  LoadedDoc,
  StoreObserver,
} from './doc-store.js'
import { totalBytes } from './merge.js'
import { storeOpenError } from './open-error.js'

const SEP = '\u0000'
const DOC_PREFIX = `d${SEP}`
const BOOT_KEY = `m${SEP}boot`
/** Key prefixes of per-doc sections other stores keep here (`<p>\0<doc>\0…`): deleted with the doc. */
const DOC_SCOPED_SECTIONS = ['h']
const generationKey = (docName: string) => `g${SEP}${docName}`
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

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

export { StoreAccessError, StoreLockedError } from './open-error.js'

/** See LevelDocStore.sideTable. Keys are any strings without U+0000 in practice. */
export interface SideTable {
  put(key: string, value: Uint8Array): Promise<void>
  del(key: string): Promise<void>
  entries(): AsyncIterable<readonly [string, Uint8Array]>
}

export interface LevelDocStoreOptions {
  readonly flushIntervalMs?: number
  /** Compact a doc automatically once its log reaches this many entries... */
  readonly compactLogEntries?: number
  /** ...or this many bytes. 0 disables automatic compaction. */
  readonly compactLogBytes?: number
  readonly observer?: StoreObserver
  readonly mergeThreads?: number
  /** A worker pool shared with others; the store then does not close it. */
  readonly pool?: WorkerPool
  /**
   * For operator tools that must leave the store exactly as it was (dry runs, verify): no
   * boot id is written, appends and real compactions throw, the directory is never created.
   */
  readonly readOnly?: boolean
}

interface PendingEntry {
  readonly key: string
  readonly value: Uint8Array
}

interface LogStats {
  entries: number
  bytes: number
}

const docKeyPrefix = (docName: string) => `${DOC_PREFIX}${docName}${SEP}`
const snapshotKey = (docName: string) => `${docKeyPrefix(docName)}s`
const docRange = (docName: string) => ({ gte: docKeyPrefix(docName), lt: `${DOC_PREFIX}${docName}\u0001` })

export class LevelDocStore implements DocStore {
  /**
   * Created by open(), not the constructor: a Level instance opens itself (creating the
   * directory) a microtask after construction, and building a server must touch nothing.
   */
  private level: Level<string, Uint8Array> | undefined
  private readonly pool: WorkerPool
  private readonly ownsPool: boolean
  private readonly flushIntervalMs: number
  private readonly compactLogEntries: number
  private readonly compactLogBytes: number
  private readonly observer: StoreObserver
  private bootId = ''
  private counter = 0
  private pending: PendingEntry[] = []
  private pendingDocs = new Set<string>()
  private writingDocs = new Set<string>()
  private flushTimer: NodeJS.Timeout | undefined
  private flushChain: Promise<void> = Promise.resolve()
  /** Log size of docs this process has loaded or written, for automatic compaction. */
  private readonly logStats = new Map<string, LogStats>()
  /** One compaction at a time per doc (single-flight). */
  private readonly compactions = new Map<string, Promise<CompactionResult>>()
  private opened = false
  private closing = false
  private closed: Promise<void> | undefined
  private readonly readOnly: boolean

  constructor(
    readonly location: string,
    options: LevelDocStoreOptions = {},
  ) {
    this.ownsPool = options.pool === undefined
    this.pool = options.pool ?? new WorkerPool(options.mergeThreads ?? 1)
    this.flushIntervalMs = options.flushIntervalMs ?? 100
    this.compactLogEntries = options.compactLogEntries ?? 500
    this.compactLogBytes = options.compactLogBytes ?? 4 * 1024 * 1024
    this.observer = options.observer ?? {}
    this.readOnly = options.readOnly ?? false
  }

  /**
   * The LevelDB itself, for stores that keep their own key range in the same database (one
   * process may open a LevelDB directory): version history uses `h\0…`. They must never
   * write under `d\0` or `m\0`.
   */
  get database(): Level<string, Uint8Array> {
    return this.db
  }

  get isOpen(): boolean {
    return this.opened && !this.closing
  }

  private get db(): Level<string, Uint8Array> {
    if (!this.level)
      throw new YwsError('YWS_ERR_CLOSED', `the document store at ${this.location} is not open`)
    return this.level
  }

  async open(): Promise<void> {
    this.level ??= new Level<string, Uint8Array>(this.location, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    })
    try {
      await this.level.open({ createIfMissing: !this.readOnly })
    } catch (error) {
      throw storeOpenError(this.location, error)
    }
    if (this.readOnly) {
      this.opened = true
      return
    }
    // A boot id greater than every earlier one keeps log keys unique across restarts even
    // if the wall clock went backwards.
    const previous = await this.db.get(BOOT_KEY)
    const previousBoot = previous ? Number.parseInt(Buffer.from(previous).toString(), 16) : 0
    const boot = Math.max(Date.now(), previousBoot + 1)
    this.bootId = boot.toString(16).padStart(12, '0')
    await this.db.put(BOOT_KEY, Buffer.from(this.bootId))
    this.opened = true
  }

  async load(docName: string): Promise<LoadedDoc> {
    assertDocName(docName)
    this.assertOpen()
    // A room reloaded right after it unloaded may still have entries queued or being
    // written; write them first so the read below sees them.
    if (this.pendingDocs.has(docName) || this.writingDocs.has(docName)) await this.flush()
    const { snapshot, log } = await this.readDoc(docName)
    const updates = snapshot
      ? [snapshot, ...log.map((entry) => entry.value)]
      : log.map((entry) => entry.value)
    const stats = { entries: log.length, bytes: totalBytes(log.map((entry) => entry.value)) }
    this.logStats.set(docName, stats)
    const update = updates.length === 0 ? EMPTY_UPDATE : await this.pool.merge(updates)
    this.maybeScheduleCompaction(docName, stats)
    return {
      update,
      snapshotBytes: snapshot?.byteLength ?? 0,
      logEntries: stats.entries,
      logBytes: stats.bytes,
    }
  }

  append(docName: string, update: Uint8Array): void {
    this.assertOpen()
    this.assertWritable()
    this.counter += 1
    const key = `${docKeyPrefix(docName)}l${this.bootId}${this.counter.toString(16).padStart(8, '0')}`
    this.pending.push({ key, value: update })
    this.pendingDocs.add(docName)
    const stats = this.logStats.get(docName) ?? { entries: 0, bytes: 0 }
    stats.entries += 1
    stats.bytes += update.byteLength
    this.logStats.set(docName, stats)
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined
      this.flush().catch((error: unknown) => this.observer.onFlushError?.(error))
    }, this.flushIntervalMs)
  }

  flush(): Promise<void> {
    // Chained so flushes never overlap and a caller's flush covers everything appended
    // before it was called.
    const next = this.flushChain.then(() => this.writePending())
    this.flushChain = next.catch(() => undefined)
    return next
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return
    const batch = this.pending
    const docs = this.pendingDocs
    this.pending = []
    this.pendingDocs = new Set()
    this.writingDocs = docs
    const started = performance.now()
    try {
      await this.db.batch(
        batch.map((entry) => ({ type: 'put' as const, key: entry.key, value: entry.value })),
      )
    } catch (error) {
      // Keep the entries (in front, though order does not matter to Yjs) and retry soon:
      // an update is never dropped because one write failed.
      this.pending = batch.concat(this.pending)
      for (const doc of docs) this.pendingDocs.add(doc)
      // While closing, the caller (close) gets the error; a timer would retry against a DB
      // that is going away and keep the process alive.
      if (!this.closing)
        this.flushTimer ??= setTimeout(
          () => {
            this.flushTimer = undefined
            this.flush().catch((retryError: unknown) => this.observer.onFlushError?.(retryError))
          },
          Math.max(this.flushIntervalMs, 250),
        )
      throw error
    } finally {
      this.writingDocs = new Set()
    }
    this.observer.onFlush?.(
      (performance.now() - started) / 1000,
      batch.length,
      totalBytes(batch.map((e) => e.value)),
    )
    for (const doc of docs) {
      const stats = this.logStats.get(doc)
      if (stats) this.maybeScheduleCompaction(doc, stats)
    }
  }

  private maybeScheduleCompaction(docName: string, stats: LogStats): void {
    if (this.compactLogBytes === 0 || this.closing || this.readOnly) return
    if (stats.entries < this.compactLogEntries && stats.bytes < this.compactLogBytes) return
    if (this.compactions.has(docName)) return
    this.compact(docName).catch((error: unknown) => this.observer.onCompactionError?.(docName, error))
  }

  compact(docName: string, options: CompactionOptions = {}): Promise<CompactionResult> {
    assertDocName(docName)
    this.assertOpen()
    if (!options.dryRun) this.assertWritable()
    const running = this.compactions.get(docName)
    if (running && !options.dryRun) return running
    const task = this.runCompaction(docName, options).finally(() => {
      if (this.compactions.get(docName) === task) this.compactions.delete(docName)
    })
    if (!options.dryRun) this.compactions.set(docName, task)
    return task
  }

  private async runCompaction(docName: string, options: CompactionOptions): Promise<CompactionResult> {
    const started = performance.now()
    // Everything appended before this call must be in the log we merge.
    await this.flush()
    const { snapshot, log } = await this.readDoc(docName)
    const logBytes = totalBytes(log.map((entry) => entry.value))
    const bytesBefore = (snapshot?.byteLength ?? 0) + logBytes
    if (log.length === 0) {
      return {
        docName,
        compacted: false,
        logEntriesMerged: 0,
        bytesBefore,
        bytesAfter: bytesBefore,
        durationMs: performance.now() - started,
      }
    }
    const inputs = snapshot ? [snapshot, ...log.map((entry) => entry.value)] : log.map((entry) => entry.value)
    const compacted = await this.pool.compact(inputs, options.gc ?? true)
    if (!options.dryRun) {
      // One atomic batch: the new snapshot appears exactly when the merged entries vanish.
      await this.db.batch([
        { type: 'put', key: snapshotKey(docName), value: compacted.snapshot },
        ...log.map((entry) => ({ type: 'del' as const, key: entry.key })),
      ])
      const stats = this.logStats.get(docName)
      if (stats) {
        stats.entries = Math.max(0, stats.entries - log.length)
        stats.bytes = Math.max(0, stats.bytes - logBytes)
      }
    }
    const result: CompactionResult = {
      docName,
      compacted: !options.dryRun,
      logEntriesMerged: log.length,
      bytesBefore,
      bytesAfter: compacted.snapshot.byteLength,
      durationMs: performance.now() - started,
    }
    if (!options.dryRun) this.observer.onCompaction?.(result)
    return result
  }

  /**
   * `after` resumes a listing after that doc name, so a long-running caller can page through
   * the store with short-lived iterators instead of pinning one LevelDB snapshot (which would
   * keep every compacted-away entry on disk until the run ends).
   */
  async *listDocs(options: { prefix?: string; after?: string } = {}): AsyncIterable<DocStats> {
    this.assertOpen()
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

  /**
   * Has LevelDB rewrite the files that hold doc keys now, so the entries compactions
   * deleted leave the disk. Left alone, LevelDB drops deleted entries only when its own
   * background compactions reach those files, which on a store that is no longer written
   * (an offline compaction run) is never: the directory grew after compacting (issue 11,
   * 95 kB -> 106 kB on 5 docs x 300 updates). Costs one pass over the doc key range.
   */
  async reclaimSpace(): Promise<void> {
    this.assertOpen()
    this.assertWritable()
    await this.flush()
    // `level` types the database as the browser/Node union; on Node it is classic-level,
    // which has compactRange. Elsewhere there is nothing on disk to reclaim.
    const db = this.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> }
    if (typeof db.compactRange !== 'function') return
    await db.compactRange(DOC_PREFIX, prefixEnd(DOC_PREFIX))
  }

  async verify(docName: string): Promise<string | undefined> {
    assertDocName(docName)
    this.assertOpen()
    const { snapshot, log } = await this.readDoc(docName)
    const entries = snapshot ? [{ key: snapshotKey(docName), value: snapshot }, ...log] : log
    for (const entry of entries) {
      try {
        Y.decodeUpdate(entry.value)
      } catch (error) {
        const what = entry.key.endsWith(`${SEP}s`) ? 'snapshot' : `log entry ${entry.key.slice(-20)}`
        return `${what} does not decode: ${error instanceof Error ? error.message : String(error)}`
      }
    }
    try {
      await this.pool.merge(entries.map((entry) => entry.value))
    } catch (error) {
      return `entries do not merge: ${error instanceof Error ? error.message : String(error)}`
    }
    return undefined
  }

  evict(docName: string): void {
    if (!this.pendingDocs.has(docName) && !this.compactions.has(docName)) this.logStats.delete(docName)
  }

  async deleteDoc(docName: string, generation: number): Promise<void> {
    assertDocName(docName)
    this.assertOpen()
    this.assertWritable()
    // Queued entries of the doc are dropped, not written: they belong to the deleted state.
    // A flush already under way may still write some; the clear below runs after it.
    if (this.pendingDocs.has(docName)) {
      const prefix = docKeyPrefix(docName)
      this.pending = this.pending.filter((entry) => !entry.key.startsWith(prefix))
      this.pendingDocs.delete(docName)
    }
    await this.flush()
    await this.compactions.get(docName)?.catch(() => undefined) // its failure is reported by its own caller
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
    this.logStats.delete(docName)
  }

  async generation(docName: string): Promise<number> {
    this.assertOpen()
    const value = await this.db.get(generationKey(docName))
    return value ? Number.parseInt(Buffer.from(value).toString(), 10) || 0 : 0
  }

  /**
   * A small durable key-value table beside the documents, in the same LevelDB (one process
   * owns a data dir, so a second LevelDB would need a second lock and directory). Writes are
   * synced to disk before they resolve: callers use it for state that must survive a crash.
   */
  sideTable(table: string): SideTable {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(table)) throw new Error(`bad side table name "${table}"`)
    const prefix = `x${SEP}${table}${SEP}`
    return {
      put: async (key, value) => {
        this.assertOpen()
        this.assertWritable()
        await this.db.put(prefix + key, value, { sync: true })
      },
      del: async (key) => {
        this.assertOpen()
        this.assertWritable()
        await this.db.del(prefix + key, { sync: true })
      },
      entries: async function* (this: LevelDocStore) {
        this.assertOpen()
        for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
          yield [key.slice(prefix.length), value] as const
        }
      }.bind(this),
    }
  }

  /**
   * Flushes, waits for running compactions, closes LevelDB. Every call returns the same
   * promise (a second caller waits for the first close, not only for its start); appends
   * after it starts throw YWS_ERR_CLOSED instead of queueing writes nobody will make.
   */
  close(): Promise<void> {
    this.closed ??= this.closeOnce()
    return this.closed
  }

  private async closeOnce(): Promise<void> {
    if (!this.opened) return
    this.closing = true
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    await this.flush()
    await Promise.allSettled(this.compactions.values())
    if (this.ownsPool) await this.pool.close()
    await this.db.close()
  }

  private async readDoc(docName: string): Promise<{ snapshot: Uint8Array | undefined; log: PendingEntry[] }> {
    let snapshot: Uint8Array | undefined
    const log: PendingEntry[] = []
    const snapKey = snapshotKey(docName)
    for await (const [key, value] of this.db.iterator(docRange(docName))) {
      if (key === snapKey) snapshot = value
      else log.push({ key, value })
    }
    return { snapshot, log }
  }

  private assertOpen(): void {
    if (!this.opened || this.closing) {
      throw new YwsError(
        'YWS_ERR_CLOSED',
        `the document store at ${this.location} is ${this.opened ? 'closed' : 'not open'}`,
      )
    }
  }

  private assertWritable(): void {
    if (this.readOnly) throw new Error('store was opened read-only')
  }
}
