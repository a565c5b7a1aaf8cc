/**
 * Delivery latency of simulated edits: the time from an editor's edit to its appearance on
 * each other editor of the same doc, all in one process so one clock measures the whole
 * path editor → server(s) → editor.
 *
 * How an edit is recognised on arrival: Yjs integrates one client's structs strictly in clock
 * order (a struct whose predecessor is missing waits as "pending"), so a receiver's state
 * vector entry for a writer is exactly the prefix of that writer's edits it holds. The writer
 * notes its clock after each edit; when a receiver's entry for it reaches that clock, the edit
 * has arrived. Edits that add no struct (pure deletions) do not move the clock and are not
 * timed; they are still checked for loss by the verdict.
 */
import * as Y from 'yjs'

/** Percentiles of the delivery latency in milliseconds (0 when nothing was measured). */
export interface LatencySummary {
  /** Number of (edit, receiving editor) deliveries measured. */
  readonly count: number
  readonly p50: number
  readonly p99: number
  readonly max: number
}

/**
 * A bounded sample of latencies: the first `capacity` values, then reservoir sampling
 * (algorithm R), so percentiles stay representative on hour-long runs at a fixed memory
 * cost (capacity × 8 bytes). `max` and `count` are exact.
 */
export class LatencySamples {
  private readonly values: number[] = []
  private seen = 0
  private maxValue = 0

  constructor(
    private readonly capacity = 100_000,
    private readonly random: () => number = Math.random,
  ) {}

  add(ms: number): void {
    this.seen += 1
    if (ms > this.maxValue) this.maxValue = ms
    if (this.values.length < this.capacity) {
      this.values.push(ms)
      return
    }
    const slot = Math.floor(this.random() * this.seen)
    if (slot < this.capacity) this.values[slot] = ms
  }

  summary(): LatencySummary {
    if (this.seen === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
    const sorted = Float64Array.from(this.values).sort()
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
    const round = (ms: number) => Math.round(ms * 10) / 10
    return { count: this.seen, p50: round(at(0.5)), p99: round(at(0.99)), max: round(this.maxValue) }
  }
}

interface WriterLog {
  /** Clock after each timed edit, ascending, from `base` on (older entries were trimmed). */
  readonly clocks: number[]
  readonly sentAt: number[]
  /** Index (absolute, including trimmed entries) of the next edit each receiver has not seen. */
  readonly next: Map<number, number>
  base: number
}

/**
 * The latency bookkeeping of one doc. Writers and receivers are the editors' Y.Doc client
 * ids; every editor of the doc must be registered before typing starts.
 */
export class DeliveryTracker {
  private readonly writers = new Map<number, WriterLog>()

  constructor(
    private readonly samples: LatencySamples,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Registers an editor; it writes, and receives every other editor's edits. */
  addEditor(clientId: number): void {
    for (const [writer, log] of this.writers) {
      if (writer !== clientId) log.next.set(clientId, log.base + log.clocks.length)
    }
    const next = new Map<number, number>()
    for (const other of this.writers.keys()) next.set(other, 0)
    this.writers.set(clientId, { clocks: [], sentAt: [], next, base: 0 })
  }

  /** The writer made an edit; `clock` is its own state vector entry right after it. */
  recordEdit(writer: number, clock: number): void {
    const log = this.writers.get(writer)
    if (!log) return
    const last = log.clocks.at(-1)
    // A deletion adds no struct: the clock did not move, nothing new to time.
    if (last !== undefined && clock <= last) return
    log.clocks.push(clock)
    log.sentAt.push(this.now())
  }

  /** The receiver applied a remote update: time every edit that has now arrived there. */
  observe(receiver: number, doc: Y.Doc): void {
    const now = this.now()
    for (const [writer, log] of this.writers) {
      if (writer === receiver) continue
      const start = log.next.get(receiver)
      if (start === undefined) continue
      const clock = Y.getState(doc.store, writer)
      let index = start
      while (index - log.base < log.clocks.length && log.clocks[index - log.base]! <= clock) {
        this.samples.add(now - log.sentAt[index - log.base]!)
        index += 1
      }
      if (index !== start) {
        log.next.set(receiver, index)
        this.trim(log)
      }
    }
  }

  /** Drops entries every receiver has seen, so memory follows the slowest receiver, not the run. */
  private trim(log: WriterLog): void {
    let slowest = Number.POSITIVE_INFINITY
    for (const index of log.next.values()) slowest = Math.min(slowest, index)
    const drop = slowest - log.base
    // Splicing is O(n): only worth it in chunks.
    if (drop < 1024) return
    log.clocks.splice(0, drop)
    log.sentAt.splice(0, drop)
    log.base = slowest
  }
}
