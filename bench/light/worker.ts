/**
 * Light load-generator process: raw WebSocket clients (bench/light/client.ts) sending
 * pre-encoded updates (bench/light/trace.ts) and timing deliveries from update headers only.
 * No Y.Doc anywhere, so one core drives far more traffic than the Yjs generator.
 * Answers the harness over IPC, one request at a time; exits when the harness goes away.
 *
 * Timing: a writer stamps send time by clock; a reader that sees clock k of a writer has all
 * clocks <= k of it (Yjs delivers in causal order), so coalesced deliveries are all counted.
 */
import * as hdr from 'hdr-histogram-js'
import { BulkTrace } from './bulk.js'
import { LightClient } from './client.js'
import type {
  BulkPushParams,
  BulkPushResult,
  BulkSyncParams,
  LightMethods,
  LightOpenParams,
  LightOpenResult,
  LightProbeParams,
  LightProbeResult,
  LightReconnectResult,
  LightRunParams,
  LightRunResult,
} from './protocol.js'
import { Trace } from './trace.js'
import { scanUpdate } from './wire.js'

interface Writer {
  id: number
  client: LightClient
  trace: Trace
  docName: string | undefined
  /** Readers of its room (every other client there). */
  readers: number
  queue: Uint8Array[]
  next: number
  /** performance.now() at send, by clock. */
  sentAt: number[]
  /** Deliveries still owed for a measured clock; -1 = not measured. */
  remaining: number[]
  /** Highest clock any reader received. */
  maxDelivered: number
}

interface Member {
  client: LightClient
  /** Highest clock seen per writer id. */
  lastSeen: Map<number, number>
}

let members: Member[] = []
let writers: Writer[] = []
const writersById = new Map<number, Writer>()
let hist = newHist()
let measuring = false
let expected = 0
let delivered = 0
let sentMeasured = 0
let stopRequested = false

function newHist(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function received(m: Member, buf: Uint8Array, start: number, end: number): void {
  const now = performance.now()
  scanUpdate(buf, start, end, (client, last) => {
    const w = writersById.get(client)
    if (!w || w.client === m.client) return
    const from = m.lastSeen.get(client) ?? -1
    if (last <= from) return
    m.lastSeen.set(client, last)
    if (last > w.maxDelivered) w.maxDelivered = last
    for (let c = from + 1; c <= last; c++) {
      const left = w.remaining[c]
      if (left === undefined || left <= 0) continue
      w.remaining[c] = left - 1
      hist.recordValue(Math.max(1, Math.round((now - w.sentAt[c]!) * 1000)))
      delivered += 1
    }
  })
}

async function inWaves<T>(items: T[], wave: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += wave) await Promise.all(items.slice(i, i + wave).map(fn))
}

async function open(p: LightOpenParams): Promise<LightOpenResult> {
  const t0 = performance.now()
  const times: number[] = []
  const added: Member[] = []
  let nextId = p.clientBase
  for (const room of p.rooms) {
    const perRoom = p.writersPerRoom + p.readersPerRoom
    for (let i = 0; i < perRoom; i++) {
      const m: Member = { client: undefined as unknown as LightClient, lastSeen: new Map() }
      m.client = new LightClient(p.url, room, p.protocol, (b, s, e) => received(m, b, s, e))
      added.push(m)
      if (i < p.writersPerRoom) {
        const w: Writer = {
          id: nextId,
          client: m.client,
          trace: new Trace(nextId, nextId * 7919),
          docName: p.protocol === 'hocuspocus' ? room : undefined,
          readers: perRoom - 1,
          queue: [],
          next: 0,
          sentAt: [],
          remaining: [],
          maxDelivered: -1,
        }
        nextId += 1
        writers.push(w)
        writersById.set(w.id, w)
      }
    }
  }
  members.push(...added)
  // Waves, so the listen backlog is never what is measured.
  await inWaves(added, 100, async (m) => {
    const t = performance.now()
    await m.client.connect(p.timeoutMs)
    times.push(performance.now() - t)
  })
  return { connected: added.length, totalMs: performance.now() - t0, times }
}

async function run(p: LightRunParams): Promise<LightRunResult> {
  if (writers.length === 0) throw new Error('no writers open')
  // Pre-encode every edit the run can send (10 % spare), outside the timed loop.
  const perWriter = Math.ceil((((p.rate / writers.length) * (p.warmupMs + p.durationMs)) / 1000) * 1.1) + 2
  for (const w of writers) {
    const more = perWriter - (w.queue.length - w.next)
    w.queue = w.queue.slice(w.next)
    w.next = 0
    if (more > 0) w.queue = w.queue.concat(w.trace.nextMessages(more, w.docName))
  }
  hist = newHist()
  expected = 0
  delivered = 0
  sentMeasured = 0
  const start = performance.now()
  const measureFrom = start + p.warmupMs
  const end = measureFrom + p.durationMs
  let done = 0
  let rr = 0
  let cpu0 = process.cpuUsage()
  const maxBacklog = Math.max(1, Math.ceil(p.rate * 0.1))
  stopRequested = false
  let measuredFrom = measureFrom
  // One scheduler for all writers: every tick, send what the rate says is due; a lagging
  // generator never bursts by more than 100 ms worth of edits.
  for (;;) {
    const now = performance.now()
    if (now >= end || (stopRequested && measuring)) break
    if (!measuring && now >= measureFrom) {
      measuring = true
      measuredFrom = now
      cpu0 = process.cpuUsage()
      process.send?.({ event: 'measure-start' })
    }
    const due = Math.floor(((now - start) / 1000) * p.rate)
    if (due - done > maxBacklog) done = due - maxBacklog
    while (done < due) {
      const w = writers[rr % writers.length]!
      rr += 1
      done += 1
      if (w.next >= w.queue.length || !w.client.open) continue
      const clock = w.trace.clock - w.queue.length + w.next
      const msg = w.queue[w.next]!
      w.next += 1
      w.sentAt[clock] = performance.now()
      w.remaining[clock] = measuring ? w.readers : -1
      if (measuring) {
        sentMeasured += 1
        expected += w.readers
      }
      w.client.send(msg)
    }
    await sleep(Math.max(1, Math.min(5, 1000 / p.rate)))
  }
  measuring = false
  const windowS = (performance.now() - measuredFrom) / 1000
  const cpu = process.cpuUsage(cpu0)
  process.send?.({ event: 'measure-end' })
  const drainUntil = Date.now() + p.drainMs
  while (delivered < expected && Date.now() < drainUntil) await sleep(10)
  // Edits encoded but not sent stay queued for the next run: clocks must stay gap-free.
  return {
    hist: hdr.encodeIntoCompressedBase64(hist),
    sent: sentMeasured,
    expected,
    delivered,
    sentInWindow: sentMeasured,
    windowS,
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
    writers: writers.map((w) => [w.id, w.trace.clock - (w.queue.length - w.next), w.maxDelivered + 1]),
  }
}

/**
 * Reads what the server holds for each room: a fresh client collects every clock the server
 * sends, then asks again (sync step 1) until PROBE_STABLE answers in a row add nothing, since a
 * server may load stored state after answering the first sync (the reference server does).
 */
async function probe(p: LightProbeParams): Promise<LightProbeResult> {
  const PROBE_STABLE = 2
  const PROBE_EVERY_MS = 200
  const sv: Array<[number, number]> = []
  await inWaves(p.rooms, 250, async (room) => {
    const c = new LightClient(p.url, room, p.protocol, undefined)
    c.seen = new Map()
    try {
      await c.connect(p.timeoutMs)
      const deadline = Date.now() + p.timeoutMs
      let stable = 0
      let last = ''
      while (stable < PROBE_STABLE) {
        if (Date.now() > deadline) throw new Error(`${room}: probe did not settle`)
        const answers = c.step2Count
        c.resync()
        while (c.step2Count === answers && Date.now() < deadline) await sleep(5)
        await sleep(PROBE_EVERY_MS)
        const now = [...c.seen].sort((a, b) => a[0] - b[0]).join(';')
        stable = now === last ? stable + 1 : 0
        last = now
      }
      for (const entry of c.seen) sv.push(entry)
    } finally {
      await c.close()
    }
  })
  return { sv }
}

async function reconnect({ timeoutMs }: { timeoutMs: number }): Promise<LightReconnectResult> {
  await Promise.all(members.map((m) => m.client.close()))
  const times: number[] = []
  const t0 = performance.now()
  const settled = await Promise.allSettled(
    members.map(async (m) => {
      await m.client.connect(timeoutMs)
      times.push(performance.now() - t0)
    }),
  )
  return {
    total: members.length,
    resynced: settled.filter((s) => s.status === 'fulfilled').length,
    totalMs: performance.now() - t0,
    times,
  }
}

async function closeAll(): Promise<{ closed: number }> {
  const closed = members.length
  await Promise.all(members.map((m) => m.client.close()))
  members = []
  writers = []
  writersById.clear()
  return { closed }
}

async function bulkPush(p: BulkPushParams): Promise<BulkPushResult> {
  const trace = new BulkTrace(p.client, p.client, p.chunkChars)
  // Encoded before the clock starts: the push itself is what is timed.
  const msgs = trace.messages(p.chars, p.maxMessageBytes, p.protocol === 'hocuspocus' ? p.room : undefined)
  const checker = new LightClient(p.url, p.room, p.protocol, undefined)
  checker.seen = new Map()
  const pusher = new LightClient(p.url, p.room, p.protocol, undefined)
  try {
    await checker.connect(p.timeoutMs)
    const t0 = performance.now()
    await pusher.connect(p.timeoutMs)
    for (const m of msgs) await pusher.sendAndFlush(m)
    const sendMs = performance.now() - t0
    await checker.whenSeen(p.client, trace.clock, p.timeoutMs)
    return {
      messages: msgs.length,
      bytes: msgs.reduce((a, m) => a + m.length, 0),
      clock: trace.clock,
      sendMs,
      heldMs: performance.now() - t0,
    }
  } finally {
    await Promise.all([pusher.close(), checker.close()])
  }
}

async function bulkSync(p: BulkSyncParams): Promise<{ ms: number }> {
  const c = new LightClient(p.url, p.room, p.protocol, undefined)
  c.seen = new Map()
  try {
    const t0 = performance.now()
    await c.connect(p.timeoutMs)
    await c.whenSeen(p.client, p.clock, p.timeoutMs, 2000)
    return { ms: performance.now() - t0 }
  } finally {
    await c.close()
  }
}

const handlers: { [M in keyof LightMethods]: (p: LightMethods[M][0]) => Promise<LightMethods[M][1]> } = {
  open,
  run,
  probe,
  reconnect,
  closeAll,
  stopRun: async () => {
    stopRequested = true
    return { stopped: measuring }
  },
  bulkPush,
  bulkSync,
}

process.on('message', (raw: unknown) => {
  const req = raw as { id: number; method: keyof LightMethods; params: never }
  Promise.resolve()
    .then(() => (handlers[req.method] as (p: never) => Promise<unknown>)(req.params))
    .then(
      (result) => process.send?.({ id: req.id, result }),
      (err: unknown) =>
        process.send?.({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
    )
})
// The harness is gone (crash or kill): never linger.
process.on('disconnect', () => process.exit(0))
