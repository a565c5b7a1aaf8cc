/**
 * The backend-agnostic core of every DocStore: it owns the policy, a StoreBackend owns the
 * I/O (store-backend.ts). Here: doc name checks, the lifecycle (store-lifecycle.ts, drawn
 * there), batching with the retry that never drops an update (write-queue.ts), log
 * statistics and the automatic compaction thresholds, single-flight compaction, verification.
 *
 * Compaction has two sources (issue 16):
 * - the log: read snapshot + log, merge and garbage-collect on the worker pool, verify that
 *   the result loads to the same document (compactUpdates), commit. For docs not open here,
 *   dry runs and gc: false.
 * - the live document (see LiveStateSource in doc-store.ts): when the doc is open on this
 *   instance, its room's encoded state already holds every entry stored so far, so the store
 *   takes that state at sequence N (synchronously, nothing can be appended in between), then
 *   reads the log and replaces exactly the entries with seq <= N (or from an earlier open) by
 *   it. Entries appended afterwards — queued, being written, or written during the read —
 *   have seq > N and stay in the log. No re-read merge and no double verification: the state
 *   is Yjs's own encoding of a doc that integrated every one of those entries.
 */

import * as Y from 'yjs'
import { assertDocName } from '../doc-name.js'
import { ReadOnlyStoreError } from '../errors.js'
import { WorkerPool } from '../workers/worker-pool.js'
import type {
  CompactionOptions,
  CompactionResult,
  DocStats,
  DocStore,
  LiveStateSource,
  LoadedDoc,
  StoreObserver,
  StoreWriteGuard,
} from './doc-store.js'
import { totalBytes } from './merge.js'
import type { ListOptions, LogWrite, StoreBackend, StoredLogEntry } from './store-backend.js'
import { StoreLifecycle, type StoreState } from './store-lifecycle.js'
import { WriteQueue } from './write-queue.js'

const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

export interface DocStoreOptions {
  readonly flushIntervalMs?: number
  /** Compact a doc automatically once its log reaches this many entries... */
  readonly compactLogEntries?: number
  /** ...or this many bytes. 0 disables automatic compaction. */
  readonly compactLogBytes?: number
  readonly observer?: StoreObserver
  /** Threads of the pool the store creates when none is given (standalone tools). */
  readonly mergeThreads?: number
  /** The process's worker pool (injected by the composition root); the store then does not close it. */
  readonly pool?: WorkerPool
  /**
   * For operator tools that must leave the store exactly as it was (dry runs, verify): the
   * backend writes nothing, appends and real compactions throw.
   */
  readonly readOnly?: boolean
}

interface LogStats {
  entries: number
  bytes: number
  /** The doc's snapshot size, as last loaded or compacted (0: none known). */
  snapshotBytes: number
}

export class BaseDocStore implements DocStore {
  private readonly lifecycle: StoreLifecycle
  private readonly queue: WriteQueue
  private readonly pool: WorkerPool
  private readonly ownsPool: boolean
  private readonly compactLogEntries: number
  private readonly compactLogBytes: number
  private readonly observer: StoreObserver
  protected readonly readOnly: boolean
  /** Sequence number of the last append of this open store (see store-backend.ts). */
  private seq = 0
  /** Log size of docs this process has loaded or written, for automatic compaction. */
  private readonly logStats = new Map<string, LogStats>()
  /** One compaction at a time per doc (single-flight). */
  private readonly compactions = new Map<string, Promise<CompactionResult>>()
  private liveState: LiveStateSource | undefined
  private writeGuard: StoreWriteGuard | undefined
  /**
   * Docs past a threshold, waiting for their automatic compaction. Many docs edited at the
   * same pace cross it together; compacting them all at once ran every doc's encode, read and
   * commit in the same few macrotasks (200 docs: a 105 ms stall). They run one at a time,
   * each started from its own macrotask.
   */
  private readonly autoQueue = new Set<string>()
  private autoRunning = false
  private autoTimer: NodeJS.Immediate | undefined

  constructor(
    protected readonly backend: StoreBackend,
    options: DocStoreOptions = {},
  ) {
    this.lifecycle = new StoreLifecycle(backend.location)
    this.ownsPool = options.pool === undefined
    this.pool = options.pool ?? new WorkerPool(options.mergeThreads ?? 1)
    this.compactLogEntries = options.compactLogEntries ?? 500
    this.compactLogBytes = options.compactLogBytes ?? 4 * 1024 * 1024
    this.observer = options.observer ?? {}
    this.readOnly = options.readOnly ?? false
    this.queue = new WriteQueue({
      intervalMs: options.flushIntervalMs ?? 100,
      write: (batch) => this.backend.writeBatch(batch),
      beforeWrite: (docs) => this.writeGuard?.(docs),
      stopped: () => this.lifecycle.isShuttingDown,
      onWritten: (batch, docs, seconds) => this.written(batch, docs, seconds),
      onError: (error) => this.observer.onFlushError?.(error),
    })
  }

  get isOpen(): boolean {
    return this.lifecycle.isOpen
  }

  get state(): StoreState {
    return this.lifecycle.state
  }

  open(): Promise<void> {
    return this.lifecycle.open(() => this.backend.open(this.readOnly))
  }

  useLiveState(source: LiveStateSource | undefined): void {
    this.liveState = source
  }

  useWriteGuard(guard: StoreWriteGuard | undefined): void {
    this.writeGuard = guard
  }

  async load(docName: string): Promise<LoadedDoc> {
    assertDocName(docName)
    this.lifecycle.assertOpen()
    // A room reloaded right after it unloaded may still have entries queued or being
    // written; write them first so the read below sees them.
    if (this.queue.holds(docName)) await this.flush()
    const { snapshot, log } = await this.backend.readDoc(docName)
    const values = log.map((entry) => entry.value)
    const updates = snapshot ? [snapshot, ...values] : values
    const stats = { entries: log.length, bytes: totalBytes(values), snapshotBytes: snapshot?.byteLength ?? 0 }
    this.logStats.set(docName, stats)
    const state = updates.length === 0 ? { update: EMPTY_UPDATE } : await this.pool.load(updates)
    this.maybeScheduleCompaction(docName, stats)
    return {
      ...state,
      snapshotBytes: snapshot?.byteLength ?? 0,
      logEntries: stats.entries,
      logBytes: stats.bytes,
    }
  }

  append(docName: string, update: Uint8Array): void {
    this.lifecycle.assertOpen()
    this.assertWritable()
    this.seq += 1
    this.queue.push({ docName, seq: this.seq, value: update })
    const stats = this.logStats.get(docName)
    if (stats) {
      stats.entries += 1
      stats.bytes += update.byteLength
    } else this.logStats.set(docName, { entries: 1, bytes: update.byteLength, snapshotBytes: 0 })
  }

  flush(): Promise<void> {
    return this.queue.flush()
  }

  private written(batch: readonly LogWrite[], docs: ReadonlySet<string>, seconds: number): void {
    let bytes = 0
    for (const entry of batch) bytes += entry.value.byteLength
    this.observer.onFlush?.(seconds, batch.length, bytes)
    for (const doc of docs) {
      const stats = this.logStats.get(doc)
      if (stats) this.maybeScheduleCompaction(doc, stats)
    }
  }

  private maybeScheduleCompaction(docName: string, stats: LogStats): void {
    if (!this.wantsCompaction(docName, stats)) return
    this.autoQueue.add(docName)
    this.nextAutoCompaction()
  }

  private wantsCompaction(docName: string, stats: LogStats | undefined): stats is LogStats {
    if (this.compactLogBytes === 0 || this.lifecycle.isShuttingDown || this.readOnly) return false
    // A log smaller than the snapshot does not pay for rewriting the snapshot: a 50 MB doc
    // pushed in 1 MiB updates rewrote its whole snapshot every COMPACT_LOG_BYTES (~300 MB
    // through LevelDB batches on the event loop). So each compaction covers at least as many
    // log bytes as the snapshot it rewrites (amortised: twice the doc's size in writes).
    if (
      !stats ||
      (stats.entries < this.compactLogEntries &&
        stats.bytes < Math.max(this.compactLogBytes, stats.snapshotBytes))
    )
      return false
    return !this.compactions.has(docName)
  }

  /** Starts the next queued automatic compaction in a macrotask of its own, unless one runs. */
  private nextAutoCompaction(): void {
    if (this.autoRunning || this.autoTimer || this.autoQueue.size === 0) return
    this.autoTimer = setImmediate(() => {
      this.autoTimer = undefined
      for (const docName of this.autoQueue) {
        this.autoQueue.delete(docName)
        // Still due? (It may have been compacted on demand, deleted or evicted meanwhile.)
        if (!this.wantsCompaction(docName, this.logStats.get(docName))) continue
        this.autoRunning = true
        this.compact(docName)
          .catch((error: unknown) => this.observer.onCompactionError?.(docName, error))
          .finally(() => {
            this.autoRunning = false
            this.nextAutoCompaction()
          })
        return
      }
    })
  }

  compact(docName: string, options: CompactionOptions = {}): Promise<CompactionResult> {
    assertDocName(docName)
    this.lifecycle.assertOpen()
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
    // Everything appended before this call must be in the log we replace.
    await this.flush()
    const gc = options.gc ?? true
    // Taken synchronously with `coveredSeq`: the state holds every entry up to it.
    const coveredSeq = this.seq
    // Asked for now (the state must cover `coveredSeq`); a big doc's arrives from its worker.
    const live = !options.dryRun && gc ? await this.liveState?.(docName) : undefined
    // From the live state the old snapshot's bytes are not needed, only its size: reading a
    // 50 MB one was a 125 ms copy on the event loop (the iterator's buffer).
    const { snapshot, snapshotBytes, log } = await this.backend.readDoc(docName, { snapshot: !live })
    const merged = live ? log.filter((entry) => entry.seq === undefined || entry.seq <= coveredSeq) : log
    const bytesBefore =
      (snapshotBytes ?? snapshot?.byteLength ?? 0) + totalBytes(log.map((entry) => entry.value))
    const result = (compacted: boolean, bytesAfter: number): CompactionResult => ({
      docName,
      compacted,
      logEntriesMerged: merged.length,
      bytesBefore,
      bytesAfter,
      durationMs: performance.now() - started,
    })
    if (merged.length === 0) return result(false, bytesBefore)
    let next: Uint8Array
    if (live) next = live
    else {
      const values = merged.map((entry) => entry.value)
      next = (await this.pool.compact(snapshot ? [snapshot, ...values] : values, gc)).snapshot
    }
    if (options.dryRun) return result(false, next.byteLength)
    // A live state may hold updates appended after the flush above: guarded like a batch.
    await this.writeGuard?.(new Set([docName]))
    // The merged entries vanish only once the new snapshot is written (store-backend.ts).
    await this.backend.commitCompaction(docName, next, merged)
    this.forget(docName, merged)
    const stats = this.logStats.get(docName)
    if (stats) stats.snapshotBytes = next.byteLength
    const done = result(true, next.byteLength)
    this.observer.onCompaction?.(done)
    return done
  }

  private forget(docName: string, merged: readonly StoredLogEntry[]): void {
    const stats = this.logStats.get(docName)
    if (!stats) return
    stats.entries = Math.max(0, stats.entries - merged.length)
    stats.bytes = Math.max(0, stats.bytes - totalBytes(merged.map((entry) => entry.value)))
  }

  /**
   * `after` resumes a listing after that doc name, so a long-running caller can page through
   * the store with short-lived iterators instead of pinning one database snapshot.
   */
  listDocs(options: ListOptions = {}): AsyncIterable<DocStats> {
    this.lifecycle.assertOpen()
    return this.backend.listDocs(options)
  }

  async verify(docName: string): Promise<string | undefined> {
    assertDocName(docName)
    this.lifecycle.assertOpen()
    const { snapshot, log } = await this.backend.readDoc(docName)
    const entries = snapshot
      ? [{ what: 'snapshot', value: snapshot }, ...log.map(described)]
      : log.map(described)
    for (const entry of entries) {
      try {
        Y.decodeUpdate(entry.value)
      } catch (error) {
        return `${entry.what} does not decode: ${message(error)}`
      }
    }
    try {
      await this.pool.merge(entries.map((entry) => entry.value))
    } catch (error) {
      return `entries do not merge: ${message(error)}`
    }
    return undefined
  }

  evict(docName: string): void {
    if (!this.queue.holds(docName) && !this.compactions.has(docName)) this.logStats.delete(docName)
  }

  async deleteDoc(docName: string, generation: number): Promise<void> {
    assertDocName(docName)
    this.lifecycle.assertOpen()
    this.assertWritable()
    // Queued entries of the doc are dropped, not written: they belong to the deleted state.
    // A flush already under way may still write some; the delete below runs after it.
    this.queue.drop(docName)
    await this.flush()
    await this.compactions.get(docName)?.catch(() => undefined) // its failure is reported by its own caller
    await this.backend.deleteDoc(docName, generation)
    this.logStats.delete(docName)
  }

  generation(docName: string): Promise<number> {
    this.lifecycle.assertOpen()
    return this.backend.generation(docName)
  }

  /**
   * Flushes, waits for running compactions, closes the backend (and the pool if the store
   * created it). Every call returns the same promise. A final flush that fails is reported
   * to the observer and rejects close(), but the backend is closed all the same.
   */
  close(): Promise<void> {
    return this.lifecycle.close(async () => {
      this.queue.stop()
      if (this.autoTimer) clearImmediate(this.autoTimer)
      this.autoTimer = undefined
      this.autoQueue.clear()
      try {
        await this.flush()
      } finally {
        await Promise.allSettled(this.compactions.values())
        if (this.ownsPool) await this.pool.close()
        await this.backend.close()
      }
    })
  }

  /** Throws YWS_ERR_CLOSED unless the store is open (for subclasses' own methods). */
  protected assertOpen(): void {
    this.lifecycle.assertOpen()
  }

  protected assertWritable(): void {
    if (this.readOnly) throw new ReadOnlyStoreError('store was opened read-only')
  }
}

function described(entry: StoredLogEntry): { what: string; value: Uint8Array } {
  return { what: `log entry ${entry.id.slice(-20)}`, value: entry.value }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
