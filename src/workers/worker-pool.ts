/**
 * The process-wide CPU pool: one per process, created by the composition root (createApp, a
 * CLI command, a script) and injected into everything that needs it — the store (loading and
 * compacting big docs), the relay (merging Redis state) and the transport (validating big
 * client messages). Nothing else constructs one, so a process never runs more worker threads
 * than its root chose.
 *
 * Small work runs inline (a worker round-trip costs more than the merge); big work runs on
 * worker threads (cpu-worker.ts), keeping the event loop responsive. Threads start on first
 * use and exit after IDLE_THREAD_TIMEOUT_MS without work; close() destroys them and is safe
 * to call twice.
 */
import { Piscina } from 'piscina'
import { YwsError } from '../errors.js'
import {
  type CompactedDoc,
  compactUpdates,
  type LoadedState,
  loadStoredState,
  loadStoredUpdates,
  totalBytes,
} from '../storage/merge.js'
import { BigDocHost } from './big-doc-host.js'
import type { ValidationVerdict, WorkerTask } from './tasks.js'
import { PER_THREAD_NICE, WORKER_NICE_INCREMENT } from './thread-priority.js'

/**
 * Work this small is done on the calling thread: both bounds matter, since merge cost
 * grows with the number of updates as well as with their bytes.
 */
const INLINE_LIMIT_BYTES = 64 * 1024
const INLINE_LIMIT_UPDATES = 64

function runsInline(updates: readonly Uint8Array[]): boolean {
  return updates.length <= INLINE_LIMIT_UPDATES && totalBytes(updates) < INLINE_LIMIT_BYTES
}

/** Under tsx/vitest this module is TypeScript; the worker then needs tsx's loader too. */
const RUNNING_TS = import.meta.url.endsWith('.ts')

/**
 * How long a thread waits for work before it exits, in ms. A worker thread is a whole V8
 * isolate with Yjs loaded: ~9 MB of RSS after validating one 300 KB message, more after
 * big merges (its heap stays grown). Until issue 16 the pool kept one thread for the rest
 * of the process's life after its first task; an idle server now returns to its baseline
 * (measured: 87.6 -> 78.3 MB RSS 36 s after one such message, compiled build). Work comes
 * in bursts (a big doc pushed, loaded or compacted), so 30 s keeps the thread through a
 * burst; starting it again costs tens of ms of CPU on the new thread, not on the event loop.
 */
export const IDLE_THREAD_TIMEOUT_MS = 30_000

export class WorkerPool {
  private pool: Piscina | undefined
  private closed: Promise<void> | undefined
  /**
   * The one thread that holds big documents' Y.Docs (big-doc-host.ts): stateful, so it is
   * not one of the pool's interchangeable threads. Started on first use, gone once it held
   * no doc for `idleTimeoutMs`.
   */
  readonly bigDocs: BigDocHost

  /**
   * @param threads threads at most; each busy one is its own V8 isolate.
   * @param idleTimeoutMs how long, in ms, an idle thread lives before it exits.
   */
  constructor(
    private readonly threads = 1,
    private readonly idleTimeoutMs = IDLE_THREAD_TIMEOUT_MS,
  ) {
    this.bigDocs = new BigDocHost(idleTimeoutMs)
  }

  /** Threads running now (0 before first use and once idle ones have exited). */
  get threadCount(): number {
    return this.pool?.threads.length ?? 0
  }

  private getPool(): Piscina {
    if (this.closed) throw new YwsError('YWS_ERR_CLOSED', 'the worker pool is closed')
    if (!this.pool) {
      this.pool = new Piscina({
        filename: new URL(RUNNING_TS ? './cpu-worker.ts' : './cpu-worker.js', import.meta.url).href,
        // Started on first use, not at boot: a worker starting beside a freshly restarted
        // server slowed its first syncs by ~90 ms (bench cold-load). No thread is kept warm:
        // an idle one is memory the process does not need (IDLE_THREAD_TIMEOUT_MS).
        minThreads: 0,
        maxThreads: this.threads,
        idleTimeout: this.idleTimeoutMs,
        // Below the event loop's priority (thread-priority.ts); piscina applies it with
        // @napi-rs/nice, its optional dependency, and skips it when that is not installed.
        niceIncrement: PER_THREAD_NICE ? WORKER_NICE_INCREMENT : 0,
        execArgv: RUNNING_TS ? ['--import', 'tsx'] : [],
      })
    }
    return this.pool
  }

  async merge(updates: Uint8Array[]): Promise<Uint8Array> {
    if (updates.length === 1) return updates[0]!
    if (runsInline(updates)) return loadStoredUpdates(updates)
    const task: WorkerTask = { op: 'merge', updates }
    return (await this.getPool().run(task)) as Uint8Array
  }

  /** Like merge, and the merged doc's state vector when a merge ran (see LoadedState). */
  async load(updates: Uint8Array[]): Promise<LoadedState> {
    if (updates.length === 1) return { update: updates[0]! }
    if (runsInline(updates)) return loadStoredState(updates)
    const task: WorkerTask = { op: 'load', updates }
    return (await this.getPool().run(task)) as LoadedState
  }

  async compact(updates: Uint8Array[], gc: boolean): Promise<CompactedDoc> {
    if (runsInline(updates)) return compactUpdates(updates, gc)
    const task: WorkerTask = { op: 'compact', updates, gc }
    return (await this.getPool().run(task)) as CompactedDoc
  }

  /** Validates one (big) client message in full on a worker thread. */
  async validateMessage(message: Uint8Array): Promise<ValidationVerdict> {
    const task: WorkerTask = { op: 'validate', message }
    return (await this.getPool().run(task)) as ValidationVerdict
  }

  /**
   * A first sync answered from an encoded doc (room in encoded mode): the pieces a client at
   * `stateVector` needs, computed on a worker thread (see split-update.ts).
   */
  async firstSyncPieces(
    state: Uint8Array,
    stateVector: Uint8Array,
    maxPieceBytes: number,
  ): Promise<Uint8Array[]> {
    const task: WorkerTask = { op: 'first-sync', state, stateVector, maxPieceBytes }
    return (await this.getPool().run(task)) as Uint8Array[]
  }

  /** Destroys the threads; every call returns the same promise. Work after it runs inline or throws YWS_ERR_CLOSED. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const pool = this.pool
      this.pool = undefined
      await Promise.all([pool?.destroy(), this.bigDocs.shutdown()])
    })()
    return this.closed
  }
}
