/**
 * The main thread's side of the big-doc worker (big-doc-worker.ts): one dedicated thread that
 * holds the Y.Doc of every big open document (room/big-doc-session.ts) so that applying an
 * update to it, encoding it and cutting its first sync never run on the event loop. Only
 * updates and state vectors cross per edit; whole states cross when a doc moves to the
 * worker and, transferred (not copied), when one comes back.
 *
 * Why a stateful thread and not the pool: piscina picks any thread and clones its arguments,
 * so a merge on the pool had to carry the whole state both ways for every big update
 * (quadratic: a 50 MB push took ~20 s at 1.2 GB RSS). Here the state stays where it is.
 *
 * Requests are answered in the order posted (see big-doc-protocol.ts). If the thread dies,
 * every outstanding request rejects, `generation` moves on, and the next request starts a
 * new thread: sessions of the old generation must open their doc again (they keep what
 * they need on the main thread to do so). Started on first use; it exits once it has held
 * no doc and had nothing to answer for `idleMs` (as the pool's threads do: a thread that
 * held a big doc keeps its grown heap); `shutdown()` is idempotent.
 */
import { Worker } from 'node:worker_threads'
import { YwsError } from '../errors.js'
import { ownsUpdateBuffer } from '../protocol/message-bytes.js'
import type {
  ApplyReply,
  BigDocReply,
  BigDocRequest,
  LentReply,
  SnapshotReply,
  ValidateReply,
} from './big-doc-protocol.js'

/** Under tsx/vitest this module is TypeScript; the worker then needs tsx's loader too. */
const RUNNING_TS = import.meta.url.endsWith('.ts')
/**
 * The thread's young generation (V8's default grows it to ~48 MiB under a big doc's
 * churn: every received frame, decoded struct and cut piece is young garbage first). Its
 * V8 heap during a 26 MB paste: 76 -> 51 MB total (33 used either way: the Y.Doc);
 * measure-paste peak RSS median 306 -> 285 MB (8-9 runs each, load 6-10), paste and sync
 * times within the noise. The main thread keeps V8's default (its young generation is a
 * throughput trade: docs/architecture.md "Memory").
 */
const YOUNG_GENERATION_MB = 8

interface Waiter {
  resolve(value: unknown): void
  reject(error: Error): void
}

export class BigDocHost {
  private worker: Worker | undefined
  private nextId = 1
  private readonly waiting = new Map<number, Waiter>()
  /** Docs open in the current thread. */
  private readonly docs = new Set<string>()
  private idleTimer: NodeJS.Timeout | undefined
  private closing: Promise<void> | undefined
  private generationCounter = 0

  /** @param idleMs how long, in ms, the thread lives holding no doc before it exits (the pool's). */
  constructor(private readonly idleMs: number) {}

  /** Whether a thread is running now. */
  get running(): boolean {
    return this.worker !== undefined
  }

  /** Bumped each time a thread starts: a session opened in an older one must open again. */
  get generation(): number {
    if (!this.worker) this.start()
    return this.generationCounter
  }

  /** Builds doc `key` in the worker from `updates`; resolves with its state vector. */
  open(key: string, updates: readonly Uint8Array[]): Promise<Uint8Array> {
    const opened = this.request<Uint8Array>((id) => ({ op: 'open', id, key, updates }))
    this.docs.add(key)
    return opened
  }

  /**
   * Builds doc `key` in the worker from `update`, handing its buffer over instead of copying
   * it on this thread (a 50 MB structured clone: 390 ms of event loop in a loaded stall
   * bench); the worker answers with a copy made there. `update` is unusable (detached) from
   * the call on, also when this rejects. A buffer that cannot be handed over (a view into a
   * larger one) is copied as by `open`.
   */
  openLent(key: string, update: Uint8Array): Promise<LentReply> {
    const buffer = update.buffer
    const transfer =
      buffer instanceof ArrayBuffer && update.byteOffset === 0 && update.byteLength === buffer.byteLength
        ? [buffer]
        : []
    const opened = this.request<LentReply>(
      (id) => ({ op: 'open', id, key, updates: [update], lent: true }),
      transfer,
    )
    this.docs.add(key)
    return opened
  }

  /** Drops doc `key` from the worker (after every request posted before). */
  close(key: string): void {
    if (!this.worker) return
    this.post({ op: 'close', key })
    this.docs.delete(key)
    this.idleCheck()
  }

  /**
   * Applies a validated update to doc `key`. Rejects only when the worker failed.
   *
   * `lend`: hand the update's buffer over instead of copying it on this thread (a structured
   * clone is a copy here per big update: one of the copies of every frame of a big push), and
   * get it back in `ApplyReply.returned`. Only when the buffer holds nothing else anyone uses
   * (protocol/message-bytes.ts `ownsUpdateBuffer`); otherwise it is copied as without `lend` and `returned` is undefined.
   * A lent update is unusable (detached) from the call until `returned`, and lost if this
   * rejects.
   */
  apply(key: string, update: Uint8Array, lend = false): Promise<ApplyReply> {
    const lent = lend && ownsUpdateBuffer(update)
    return this.request<ApplyReply>(
      (id) => ({ op: 'apply', id, key, update, lent }),
      lent ? [update.buffer as ArrayBuffer] : [],
    )
  }

  /**
   * Validates a client message on the worker thread (as the pool would), its buffer handed
   * over and back instead of cloned: for a room whose doc is here, the bytes are not copied
   * on this thread to be checked. `message` must own its whole buffer (message-bytes.ts `ownsBuffer`); it is
   * unusable (detached) from the call, and the reply holds it again. Rejects when the worker
   * failed (the message is then lost).
   */
  validate(message: Uint8Array): Promise<ValidateReply> {
    return this.request<ValidateReply>(
      (id) => ({ op: 'validate', id, message }),
      [message.buffer as ArrayBuffer],
    )
  }

  /** What a client at `stateVector` lacks of doc `key`, in pieces (see split-update.ts). */
  firstSync(key: string, stateVector: Uint8Array, maxPieceBytes: number): Promise<Uint8Array[]> {
    return this.request<Uint8Array[]>((id) => ({ op: 'first-sync', id, key, stateVector, maxPieceBytes }))
  }

  /** Doc `key` encoded, with everything applied before this call. */
  snapshot(key: string): Promise<SnapshotReply> {
    return this.request<SnapshotReply>((id) => ({ op: 'snapshot', id, key }))
  }

  /** Stops the thread; outstanding requests reject. Every call returns the same promise. */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker
      this.worker = undefined
      clearTimeout(this.idleTimer)
      this.failAll('the big-doc worker is closed')
      await worker?.terminate()
    })()
    return this.closing
  }

  private request<T>(
    build: (id: number) => BigDocRequest,
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      // Keeps the process alive only while an answer is awaited.
      if (this.waiting.size === 1) this.worker?.ref()
      try {
        this.post(build(id), transfer)
      } catch (error) {
        this.waiting.delete(id)
        reject(error as Error)
      }
    })
  }

  private post(request: BigDocRequest, transfer: readonly ArrayBuffer[] = []): void {
    if (this.closing) throw new YwsError('YWS_ERR_CLOSED', 'the big-doc worker is closed')
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    const worker = this.worker ?? this.start()
    worker.postMessage(request, transfer)
  }

  private start(): Worker {
    const entry = new URL(RUNNING_TS ? './big-doc-worker.ts' : './big-doc-worker.js', import.meta.url)
    // Node refuses a .ts entry before any loader runs: under tsx, a one-line script has tsx
    // import it. No execArgv: the process's own --import preloads (a bench probe, tsx) are
    // not for this thread (as for the pool's threads).
    const worker = RUNNING_TS
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`,
          { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } },
        )
      : new Worker(entry, { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } })
    this.generationCounter += 1
    worker.unref()
    worker.on('message', (reply: BigDocReply) => this.answer(reply))
    const gone = (why: string) => {
      if (this.worker !== worker) return
      this.worker = undefined
      this.docs.clear()
      this.failAll(why)
    }
    worker.on('error', (error) => gone(`the big-doc worker failed: ${String(error)}`))
    worker.on('exit', (code) => gone(`the big-doc worker exited (${code})`))
    this.worker = worker
    return worker
  }

  private answer(reply: BigDocReply): void {
    const waiter = this.waiting.get(reply.id)
    if (!waiter) return
    this.waiting.delete(reply.id)
    if (this.waiting.size === 0) {
      this.worker?.unref()
      this.idleCheck()
    }
    if (reply.ok) waiter.resolve(reply.value)
    else waiter.reject(new Error(reply.error))
  }

  /** Holding no doc and awaiting nothing: the thread exits after `idleMs` unless used again. */
  private idleCheck(): void {
    if (!this.worker || this.docs.size > 0 || this.waiting.size > 0 || this.idleTimer) return
    const worker = this.worker
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      if (this.worker !== worker || this.docs.size > 0 || this.waiting.size > 0) return
      this.worker = undefined
      void worker.terminate()
    }, this.idleMs)
    this.idleTimer.unref()
  }

  private failAll(why: string): void {
    const waiters = [...this.waiting.values()]
    this.waiting.clear()
    for (const waiter of waiters) waiter.reject(new Error(why))
  }
}
