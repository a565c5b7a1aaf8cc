/**
 * Load-generator process. Holds the clients (real providers, real Y.Docs) and answers the
 * harness's requests over IPC, one at a time. Runs in its own process so it can be pinned
 * to a different core than the server, and so its CPU use is reported apart.
 * Every wait here has a deadline; the process exits when the harness goes away.
 */
import * as Y from 'yjs'
import { type BenchClient, createClient } from './client.js'
import type {
  BigLoadParams,
  BigLoadResult,
  ColdSyncParams,
  Method,
  OpenParams,
  OpenResult,
  PopulateParams,
  PopulateResult,
  ReconnectResult,
  Reply,
  Request,
  TypeParams,
  TypeResult,
} from './protocol.js'
import { Tracker } from './tracker.js'
import { mulberry32, Typist } from './typing.js'

interface Member {
  id: string
  room: string
  writer: boolean
  client: BenchClient
  typist: Typist | undefined
  seq: number
  /** Highest seq seen per writer id. */
  lastSeen: Map<string, number>
}

const members: Member[] = []
const rooms = new Map<string, Member[]>()
const tracker = new Tracker()
let nextId = 0

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function send(msg: Reply): void {
  process.send?.(msg)
}

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(10)
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function seedUpdate(edits: number): Uint8Array {
  const doc = new Y.Doc()
  const typist = new Typist(424242)
  const text = doc.getText('text')
  for (let i = 0; i < edits; i++) doc.transact(() => typist.edit(text))
  return Y.encodeStateAsUpdate(doc)
}

function addMember(p: OpenParams, room: string, writer: boolean, seed: Uint8Array | undefined): Member {
  const doc = new Y.Doc()
  if (seed) Y.applyUpdate(doc, seed)
  const id = `c${nextId++}`
  const m: Member = {
    id,
    room,
    writer,
    client: createClient(p.protocol, p.url, room, doc),
    typist: writer ? new Typist(nextId * 7919) : undefined,
    seq: 0,
    lastSeen: new Map(),
  }
  const beacon = doc.getMap<number>('bench')
  beacon.observe((ev) => {
    for (const key of ev.keysChanged) {
      if (key === id) continue
      const to = beacon.get(key)
      if (typeof to !== 'number') continue
      const from = m.lastSeen.get(key) ?? 0
      if (to > from) {
        tracker.recordReceive(key, from, to)
        m.lastSeen.set(key, to)
      }
    }
  })
  members.push(m)
  const list = rooms.get(room) ?? []
  list.push(m)
  rooms.set(room, list)
  return m
}

async function open(p: OpenParams): Promise<OpenResult> {
  const seed = p.seedEdits ? seedUpdate(p.seedEdits) : undefined
  const t0 = performance.now()
  const times: number[] = []
  // Connect in waves so the listen backlog is never the thing being measured.
  const WAVE = 50
  const pending: Array<{ m: Member; t: number }> = []
  for (const room of p.rooms) {
    for (let i = 0; i < p.writersPerRoom + p.readersPerRoom; i++) {
      pending.push({
        m: addMember(p, room, i < p.writersPerRoom, i === 0 ? seed : undefined),
        t: performance.now(),
      })
      if (pending.length >= WAVE) await drainWave(pending, times, p.timeoutMs)
    }
  }
  await drainWave(pending, times, p.timeoutMs)
  times.sort((a, b) => a - b)
  return {
    connected: times.length,
    totalMs: performance.now() - t0,
    connectP50: percentile(times, 50),
    connectP99: percentile(times, 99),
  }
}

async function drainWave(
  pending: Array<{ m: Member; t: number }>,
  times: number[],
  timeoutMs: number,
): Promise<void> {
  await Promise.all(
    pending.map(async ({ m, t }) => {
      await m.client.whenSynced(timeoutMs)
      times.push(performance.now() - t)
    }),
  )
  pending.length = 0
}

function edit(m: Member): void {
  const doc = m.client.doc
  m.seq += 1
  const readers = (rooms.get(m.room)?.length ?? 1) - 1
  tracker.recordSend(m.id, m.seq, readers)
  doc.transact(() => {
    m.typist!.edit(doc.getText('text'))
    doc.getMap<number>('bench').set(m.id, m.seq)
  })
}

async function typeLoad(p: TypeParams): Promise<TypeResult> {
  const writers = members.filter((m) => m.writer)
  if (writers.length === 0) throw new Error('no writers open')
  tracker.clear()
  const start = performance.now()
  const measureFrom = start + p.warmupMs
  const end = measureFrom + p.durationMs
  let done = 0
  let rr = 0
  let measuring = false
  let sentInWindow = 0
  let cpu0 = process.cpuUsage()
  // One scheduler for all writers: every tick, send what the target rate says is due.
  // A lagging generator does not burst to catch up by more than 100 ms worth of edits.
  while (true) {
    const now = performance.now()
    if (now >= end) break
    if (!measuring && now >= measureFrom) {
      measuring = true
      tracker.startMeasuring()
      cpu0 = process.cpuUsage()
      send({ event: 'measure-start' })
    }
    const due = Math.floor(((now - start) / 1000) * p.rate)
    const maxBacklog = Math.max(1, Math.ceil(p.rate * 0.1))
    if (due - done > maxBacklog) done = due - maxBacklog
    while (done < due) {
      edit(writers[rr % writers.length]!)
      rr += 1
      done += 1
      if (measuring) sentInWindow += 1
    }
    await sleep(Math.max(1, Math.min(5, 1000 / p.rate)))
  }
  tracker.stopMeasuring()
  const cpu = process.cpuUsage(cpu0)
  send({ event: 'measure-end' })
  const drainUntil = Date.now() + p.drainMs
  while (tracker.delivered < tracker.expected && Date.now() < drainUntil) await sleep(10)
  return {
    latency: tracker.summary(),
    sent: tracker.sent,
    expected: tracker.expected,
    delivered: tracker.delivered,
    achievedRate: sentInWindow / (p.durationMs / 1000),
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
    windowS: p.durationMs / 1000,
  }
}

async function reconnect({ timeoutMs }: { timeoutMs: number }): Promise<ReconnectResult> {
  for (const m of members) m.client.disconnect()
  await waitUntil('all clients closed', () => members.every((m) => m.client.isClosed()), timeoutMs)
  const times: number[] = []
  const t0 = performance.now()
  const waits = members.map((m) =>
    m.client.whenSynced(timeoutMs, true).then(() => times.push(performance.now() - t0)),
  )
  for (const m of members) m.client.connect()
  const settled = await Promise.allSettled(waits)
  const totalMs = performance.now() - t0
  times.sort((a, b) => a - b)
  return {
    total: members.length,
    resynced: settled.filter((s) => s.status === 'fulfilled').length,
    totalMs,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1) ?? Number.NaN,
  }
}

function closeAll(): { closed: number } {
  const closed = members.length
  for (const m of members) m.client.destroy()
  members.length = 0
  rooms.clear()
  tracker.clear()
  return { closed }
}

async function populate(p: PopulateParams): Promise<PopulateResult> {
  const doc = new Y.Doc()
  const writer = createClient(p.protocol, p.url, p.room, doc)
  try {
    await writer.whenSynced(p.timeoutMs)
    const t0 = performance.now()
    const typist = new Typist(99)
    const text = doc.getText('text')
    // Batches keep the socket draining while we type; each edit is still its own update.
    for (let i = 0; i < p.edits; i += 500) {
      for (let j = i; j < Math.min(p.edits, i + 500); j++) doc.transact(() => typist.edit(text))
      await sleep(0)
    }
    const checkDoc = new Y.Doc()
    const checker = createClient(p.protocol, p.url, p.room, checkDoc)
    try {
      const want = text.toString()
      await waitUntil(
        'server holds every edit',
        () => checker.isSynced() && checkDoc.getText('text').length === want.length,
        p.timeoutMs,
      )
      if (checkDoc.getText('text').toString() !== want) throw new Error('populated content differs')
      return {
        writeMs: performance.now() - t0,
        length: want.length,
        bytes: Y.encodeStateAsUpdate(doc).length,
      }
    } finally {
      checker.destroy()
    }
  } finally {
    writer.destroy()
  }
}

async function coldSync(p: ColdSyncParams): Promise<{ ms: number }> {
  const doc = new Y.Doc()
  const t0 = performance.now()
  const c = createClient(p.protocol, p.url, p.room, doc)
  try {
    await waitUntil(
      'first sync with full content',
      () => c.isSynced() && doc.getText('text').length === p.expectLength,
      p.timeoutMs,
    )
    return { ms: performance.now() - t0 }
  } finally {
    c.destroy()
  }
}

let prepared: Y.Doc | undefined

/** Builds the big doc ahead of time, so building it is not inside the measured window. */
function bigPrepare({ bytes }: { bytes: number }): { length: number } {
  // Many 4 KiB inserts at random positions, so the doc has thousands of items, not one.
  const doc = new Y.Doc()
  const text = doc.getText('text')
  const rand = mulberry32(7)
  const chunk = 'lorem ipsum dolor sit amet '.repeat(152).slice(0, 4096)
  for (let n = 0; n < bytes; n += chunk.length) text.insert(Math.floor(rand() * (text.length + 1)), chunk)
  prepared = doc
  return { length: text.length }
}

async function bigLoad(p: BigLoadParams): Promise<BigLoadResult> {
  if (!prepared) bigPrepare({ bytes: p.bytes })
  const doc = prepared!
  prepared = undefined
  const text = doc.getText('text')
  const want = text.length
  const t0 = performance.now()
  const pusher = createClient(p.protocol, p.url, p.room, doc)
  const checkDoc = new Y.Doc()
  let checker: BenchClient | undefined
  try {
    await pusher.whenSynced(p.timeoutMs)
    checker = createClient(p.protocol, p.url, p.room, checkDoc)
    const t1 = performance.now()
    await waitUntil(
      'second client holds the big doc',
      () => checker!.isSynced() && checkDoc.getText('text').length === want,
      p.timeoutMs,
    )
    return { pushMs: t1 - t0, syncMs: performance.now() - t1 }
  } finally {
    pusher.destroy()
    checker?.destroy()
  }
}

const handlers: Record<Method, (params: never) => unknown> = {
  open,
  type: typeLoad,
  reconnect,
  closeAll,
  populate,
  coldSync,
  bigPrepare,
  bigLoad,
}

process.on('message', (raw: unknown) => {
  const req = raw as Request
  Promise.resolve()
    .then(() => handlers[req.method](req.params as never))
    .then(
      (result) => send({ id: req.id, result }),
      (err: unknown) => send({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
    )
})
// The harness is gone (crash or kill): never linger.
process.on('disconnect', () => process.exit(0))
