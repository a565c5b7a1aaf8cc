/**
 * Delivery-latency bookkeeping. The writer stamps each edit with a sequence number in the
 * shared Y.Map 'bench' (key = writer id, same transaction as the edit) and records the send
 * time here; readers in the same process observe the map, so one clock measures the whole
 * path writer -> server -> reader. If a reader sees seq n, every seq <= n from that writer
 * has been applied too (Yjs applies in causal order), so coalesced updates are all counted.
 */
import * as hdr from 'hdr-histogram-js'

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

interface WriterLog {
  /** performance.now() at send, by seq (1-based; index 0 unused). */
  sentAt: number[]
  /** Readers still to deliver each seq; measured only when seq >= firstMeasured. */
  remaining: number[]
}

/** A histogram of microseconds, summarized in milliseconds. */
export function latencySummary(h: hdr.Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  }
}

export class Tracker {
  private readonly writers = new Map<string, WriterLog>()
  private hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  })
  private measuring = false
  sent = 0
  expected = 0
  delivered = 0

  /** Starts a measured window: counters and histogram reset; later sends are measured. */
  startMeasuring(): void {
    this.hist.reset()
    this.sent = 0
    this.expected = 0
    this.delivered = 0
    this.measuring = true
  }

  stopMeasuring(): void {
    this.measuring = false
  }

  recordSend(writer: string, seq: number, readers: number): void {
    let log = this.writers.get(writer)
    if (!log) {
      log = { sentAt: [], remaining: [] }
      this.writers.set(writer, log)
    }
    log.sentAt[seq] = performance.now()
    log.remaining[seq] = this.measuring ? readers : -1
    if (this.measuring) {
      this.sent += 1
      this.expected += readers
    }
  }

  /** A reader saw writer's seq advance from `from` (exclusive) to `to` (inclusive). */
  recordReceive(writer: string, from: number, to: number): void {
    const log = this.writers.get(writer)
    if (!log) return
    const now = performance.now()
    for (let s = from + 1; s <= to; s++) {
      const left = log.remaining[s]
      if (left === undefined || left <= 0) continue
      const sentAt = log.sentAt[s]!
      this.hist.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)))
      this.delivered += 1
      log.remaining[s] = left - 1
    }
  }

  /** Latency in milliseconds. */
  summary(): LatencySummary {
    return latencySummary(this.hist)
  }

  /** Forgets everything (between phases), keeping memory bounded. */
  clear(): void {
    this.writers.clear()
    this.startMeasuring()
    this.measuring = false
  }
}
