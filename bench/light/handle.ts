/**
 * Harness side of the light generator: N generator processes (`--gen-procs`), all on the load
 * CPU, each holding whole rooms (a writer and its readers share one clock). Calls fan out to
 * every process and the answers are merged: histograms added, counts summed.
 */
import { fileURLToPath } from 'node:url'
import * as hdr from 'hdr-histogram-js'
import { LoadGen } from '../load/handle.js'
import type { TypeResult } from '../load/protocol.js'
import { latencySummary } from '../load/tracker.js'
import type {
  BulkPushParams,
  BulkPushResult,
  BulkSyncParams,
  LightMethods,
  LightOpenParams,
  LightProtocol,
  LightReconnectResult,
  LightRunParams,
} from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
/** Client ids: epoch * EPOCH_SPAN + process * PROC_SPAN + n, below 2^31 like Yjs's own. */
const EPOCH_SPAN = 1_000_000
const PROC_SPAN = 100_000

export interface LightRun extends TypeResult {
  /** Per writer: [client id, edits sent, highest delivered clock + 1]. */
  writers: Array<[number, number, number]>
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export class LightGen {
  private readonly procs: Array<LoadGen<LightMethods>>
  /** Rooms (and so writers) per process, from the last open. */
  private writersPerProc: number[] = []
  private epoch = 0
  /** Called when the first process opens its measured window and when the last closes it. */
  onEvent: (event: 'measure-start' | 'measure-end') => void = () => {}

  constructor(cpu: number | undefined, n: number) {
    this.procs = Array.from({ length: Math.max(1, n) }, () => new LoadGen<LightMethods>(cpu, WORKER))
    let started = 0
    let ended = 0
    this.procs.forEach((p) => {
      p.onEvent = (ev) => {
        if (ev === 'measure-start' && started++ % this.procs.length === 0) this.onEvent(ev)
        if (ev === 'measure-end' && ++ended % this.procs.length === 0) this.onEvent(ev)
      }
    })
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid)
  }

  private split<T>(items: T[]): T[][] {
    const out: T[][] = this.procs.map(() => [])
    items.forEach((x, i) => {
      out[i % this.procs.length]!.push(x)
    })
    return out
  }

  /**
   * Opens clients in every room (rooms dealt round-robin to the processes). Each open starts a
   * new epoch of writer client ids, so writers of a later open never collide with earlier ones.
   */
  async open(
    p: Omit<LightOpenParams, 'clientBase'>,
    timeoutMs: number,
  ): Promise<{ connected: number; totalMs: number; times: number[] }> {
    this.epoch += 1
    const parts = this.split(p.rooms)
    this.writersPerProc = parts.map((r) => r.length * p.writersPerRoom)
    const res = await Promise.all(
      parts.map((rooms, i) =>
        rooms.length === 0
          ? { connected: 0, totalMs: 0, times: [] }
          : this.procs[i]!.call(
              'open',
              { ...p, rooms, clientBase: this.epoch * EPOCH_SPAN + i * PROC_SPAN + 1 },
              timeoutMs,
            ),
      ),
    )
    return {
      connected: res.reduce((a, r) => a + r.connected, 0),
      totalMs: Math.max(...res.map((r) => r.totalMs)),
      times: res.flatMap((r) => r.times).sort((a, b) => a - b),
    }
  }

  /** One typing window on every process, `rate` split by each one's share of the writers. */
  async run(p: LightRunParams, timeoutMs: number): Promise<LightRun> {
    const total = this.writersPerProc.reduce((a, b) => a + b, 0)
    if (total === 0) throw new Error('no writers open')
    const res = await Promise.all(
      this.procs.flatMap((proc, i) =>
        this.writersPerProc[i]
          ? [proc.call('run', { ...p, rate: (p.rate * this.writersPerProc[i]) / total }, timeoutMs)]
          : [],
      ),
    )
    const h = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 120_000_000,
      numberOfSignificantValueDigits: 3,
    })
    for (const r of res) h.add(hdr.decodeFromCompressedBase64(r.hist))
    const latency = latencySummary(h)
    const sum = (f: (r: (typeof res)[number]) => number): number => res.reduce((a, r) => a + f(r), 0)
    // A window ended early by stopRun is shorter than asked: the processes report its length.
    const windowS = Math.max(...res.map((r) => r.windowS))
    return {
      latency,
      sent: sum((r) => r.sent),
      expected: sum((r) => r.expected),
      delivered: sum((r) => r.delivered),
      achievedRate: sum((r) => r.sentInWindow) / windowS,
      loadgenCpuS: sum((r) => r.loadgenCpuS),
      windowS,
      writers: res.flatMap((r) => r.writers),
    }
  }

  /** The server's state vectors of `rooms` (fresh probe clients), merged. */
  async probe(
    url: string,
    protocol: LightProtocol,
    rooms: string[],
    timeoutMs: number,
  ): Promise<Map<number, number>> {
    const parts = this.split(rooms)
    const res = await Promise.all(
      parts.map((r, i) =>
        r.length === 0
          ? { sv: [] }
          : this.procs[i]!.call('probe', { url, protocol, rooms: r, timeoutMs }, timeoutMs + 10_000),
      ),
    )
    return new Map(res.flatMap((r) => r.sv))
  }

  /** Every client closes, then all reconnect at once; per-client times to synced. */
  async reconnect(timeoutMs: number): Promise<LightReconnectResult> {
    const res = await Promise.all(
      this.procs.map((p) => p.call('reconnect', { timeoutMs }, timeoutMs + 10_000)),
    )
    return {
      total: res.reduce((a, r) => a + r.total, 0),
      resynced: res.reduce((a, r) => a + r.resynced, 0),
      totalMs: Math.max(...res.map((r) => r.totalMs)),
      times: res.flatMap((r) => r.times).sort((a, b) => a - b),
    }
  }

  /** Ends the running window of every process now. */
  async stopRun(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.call('stopRun', {}, 10_000)))
  }

  /** Pushes a big doc from the first process (a second client there confirms receipt). */
  bulkPush(p: BulkPushParams): Promise<BulkPushResult> {
    return this.procs[0]!.call('bulkPush', p, p.timeoutMs + 10_000)
  }

  /** A fresh client in the first process syncs the whole doc. */
  async bulkSync(p: BulkSyncParams): Promise<number> {
    return (await this.procs[0]!.call('bulkSync', p, p.timeoutMs + 10_000)).ms
  }

  async closeAll(timeoutMs = 20_000): Promise<void> {
    await Promise.all(this.procs.map((p) => p.call('closeAll', {}, timeoutMs)))
    this.writersPerProc = []
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()))
  }
}
