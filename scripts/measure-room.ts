/**
 * Measures a room's big-document and memory behaviour against the compiled server
 * (`dist/main.js`, built first), with raw y-websocket frames and pre-encoded Yjs updates (no Yjs
 * applied in the load generator while measuring). The server runs on CPU 0; run this script on
 * CPU 1 (`taskset -c 1 npx tsx scripts/measure-room.ts …`). Bounded: one fresh server and temp
 * data dir per measurement, removed at the end.
 *
 *   stall --mb 5     50 small docs (1 writer + 1 reader each, 500 edits/s in all): small-doc
 *                    latency in a baseline window, then while a big doc (4 KiB inserts at random
 *                    positions) is pushed in messages of at most 8 MiB, synced back to a 2nd
 *                    client, and (after an unload) loaded again; server event-loop delay max.
 *   paste            peak RSS of the server while one client pastes 400 × 64 KB into one doc.
 *   docs --docs 1000 heap and RSS per loaded ~23 KB doc (each held open by one idle raw client),
 *                    after a forced GC; then again once the docs have been quiet for --quiet-ms.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mb: { type: 'string', default: '5' },
    docs: { type: 'string', default: '1000' },
    'quiet-ms': { type: 'string', default: '0' },
    env: { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
    /** Another checkout's compiled server to measure (before/after comparisons). */
    dir: { type: 'string', default: '.' },
  },
})
const mode = positionals[0] ?? 'stall'
const MiB = 1024 * 1024
const extraEnv = Object.fromEntries(values.env.map((pair) => pair.split('=', 2) as [string, string]))

// --- server ---------------------------------------------------------------------------------

interface Sample {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
  peakRss: number
  eldMaxMs: number
}

interface Server {
  url: string
  /** Memory (after a full GC when the server was started with MEASURE_PROBE_GC=1) and eld max. */
  sample(): Promise<Sample>
  stop(): Promise<void>
}

let nextPort = 23000 + Math.floor(Math.random() * 2000)

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'yws-measure-room-'))
  const probeFile = join(dir, 'probe.json')
  const port = nextPort++
  const child: ChildProcess = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--expose-gc',
      '--import',
      new URL('./measure-room-probe.mjs', import.meta.url).pathname,
      // e.g. MEASURE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (not allowed in NODE_OPTIONS)
      ...(process.env.MEASURE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      'dist/main.js',
    ],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
        MEASURE_PROBE_FILE: probeFile,
        ...extraEnv,
        ...env,
      },
      cwd: values.dir,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  const url = `ws://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('server did not become ready')
    await sleep(100)
  }
  let last = ''
  return {
    url,
    async sample() {
      child.kill('SIGUSR2')
      for (;;) {
        await sleep(20)
        const text = await readFile(probeFile, 'utf8').catch(() => '')
        const mtime = (await stat(probeFile).catch(() => undefined))?.mtimeMs ?? 0
        const key = `${mtime}:${text}`
        if (text && key !== last) {
          last = key
          return JSON.parse(text) as Sample
        }
      }
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    },
  }
}

// --- raw client -----------------------------------------------------------------------------

const SYNC = 0
const STEP1 = 0
const STEP2 = 1
const UPDATE = 2

function syncFrame(kind: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, SYNC)
  encoding.writeVarUint(encoder, kind)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

class RawClient {
  readonly ws: WebSocket
  /** Called for every update (sync kind 2) the server sends. */
  onUpdate: ((bytes: number) => void) | undefined
  /** Called for every sync step 2 the server sends. */
  onStep2: ((bytes: number) => void) | undefined
  readonly ready: Promise<void>
  private closing = false

  constructor(url: string, docName: string) {
    this.ws = new WebSocket(`${url}/${docName}`, { maxPayload: 1024 * MiB })
    let resolveReady: () => void
    this.ready = new Promise((resolve) => {
      resolveReady = resolve
    })
    this.ws.on('message', (data: Buffer) => {
      const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      if (decoding.readVarUint(decoder) !== SYNC) return
      const kind = decoding.readVarUint(decoder)
      if (kind === STEP1) resolveReady()
      else if (kind === UPDATE) this.onUpdate?.(data.byteLength)
      else if (kind === STEP2) this.onStep2?.(data.byteLength)
    })
    this.ws.on('error', () => undefined)
    this.ws.on('close', (code: number, reason: Buffer) => {
      if (!this.closing) console.error(`${docName}: closed by the server, ${code} ${reason.toString()}`)
    })
  }

  send(frame: Uint8Array): void {
    this.ws.send(frame)
  }

  /** Asks for everything (empty state vector) and resolves when the step 2 arrived. */
  /** Sends a step 1 (empty state vector: asks for everything) and resolves when the step 2 arrived. */
  syncAll(stateVector: Uint8Array = new Uint8Array([0])): Promise<void> {
    return new Promise((resolve) => {
      this.onStep2 = () => resolve()
      this.send(syncFrame(STEP1, stateVector))
    })
  }

  close(): void {
    this.closing = true
    this.ws.terminate()
  }
}

// --- helpers --------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function prng(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b)
  const f = (n: number) => n.toFixed(1)
  return `n ${sorted.length}, p50 ${f(percentile(sorted, 50))} ms, p99 ${f(percentile(sorted, 99))} ms, max ${f(sorted.at(-1) ?? Number.NaN)} ms`
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')

/** A big doc as Yjs would send it: `totalBytes` of 4 KiB inserts at random positions, in messages ≤ maxBytes. */
function bigDocMessages(
  totalBytes: number,
  maxBytes: number,
): { update: Uint8Array; stateVector: Uint8Array }[] {
  const random = prng(42)
  const doc = new Y.Doc()
  const text = doc.getText('t')
  const chunk = 'x'.repeat(4096)
  const messages: { update: Uint8Array; stateVector: Uint8Array }[] = []
  let since = Y.encodeStateVector(doc)
  let pending = 0
  while (text.length < totalBytes) {
    text.insert(Math.floor(random() * (text.length + 1)), chunk)
    pending += chunk.length + 40
    if (pending >= maxBytes - 64 * 1024) {
      const update = Y.encodeStateAsUpdate(doc, since)
      since = Y.encodeStateVector(doc)
      messages.push({ update, stateVector: since })
      pending = 0
    }
  }
  if (pending > 0)
    messages.push({ update: Y.encodeStateAsUpdate(doc, since), stateVector: Y.encodeStateVector(doc) })
  doc.destroy()
  return messages
}

/** Small docs being typed into: 1 writer and 1 reader each, latencies by send time. */
class SmallDocs {
  readonly latencies: { at: number; ms: number }[] = []
  private readonly clients: RawClient[] = []
  private readonly sent: number[][] = []
  private readonly updates: Uint8Array[][] = []
  private readonly cursor: number[] = []
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly url: string,
    private readonly count: number,
  ) {}

  async open(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const doc = new Y.Doc()
      const updates: Uint8Array[] = []
      doc.on('update', (update: Uint8Array) => updates.push(update))
      const text = doc.getText('t')
      for (let k = 0; k < 3000; k++) text.insert(text.length, 'word ')
      this.updates.push(updates)
      this.sent.push([])
      this.cursor.push(0)
      const reader = new RawClient(this.url, `small-${i}`)
      const writer = new RawClient(this.url, `small-${i}`)
      const queue = this.sent[i]!
      reader.onUpdate = () => {
        const at = queue.shift()
        if (at !== undefined) this.latencies.push({ at, ms: performance.now() - at })
      }
      this.clients.push(reader, writer)
    }
    await Promise.all(this.clients.map((client) => client.ready))
  }

  /** Sends `rate` edits/s spread over the docs. */
  start(rate: number): void {
    const tickMs = 10
    const perTick = (rate * tickMs) / 1000
    let credit = 0
    let doc = 0
    this.timer = setInterval(() => {
      credit += perTick
      while (credit >= 1) {
        credit -= 1
        const i = doc++ % this.count
        const update = this.updates[i]![this.cursor[i]!++]
        if (!update) continue
        this.sent[i]!.push(performance.now())
        this.clients[2 * i + 1]!.send(syncFrame(UPDATE, update))
      }
    }, tickMs)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  between(from: number, to: number): number[] {
    return this.latencies.filter((l) => l.at >= from && l.at < to).map((l) => l.ms)
  }

  close(): void {
    for (const client of this.clients) client.close()
  }
}

// --- scenarios ------------------------------------------------------------------------------

async function stall(mb: number): Promise<void> {
  const built = performance.now()
  const messages = bigDocMessages(mb * MiB, 8 * MiB)
  console.log(
    `built in ${(performance.now() - built).toFixed(0)} ms; largest message ${Math.max(...messages.map((m) => m.update.byteLength))} B`,
  )
  const totalBytes = messages.reduce((sum, m) => sum + m.update.byteLength, 0)
  console.log(`big doc: ${(totalBytes / 1e6).toFixed(1)} MB in ${messages.length} message(s); load ${load()}`)
  const server = await startServer({ ROOM_IDLE_MS: '500', MAX_DOC_BYTES: String(Math.max(64, 2 * mb) * MiB) })
  const small = new SmallDocs(server.url, 50)
  await small.open()
  small.start(500)
  await sleep(1000)
  await server.sample()
  const baseFrom = performance.now()
  await sleep(3000)
  const baseTo = performance.now()
  const base = await server.sample()

  // Push: the pusher's own step 1 is answered after every update it sent was handled.
  const pushFrom = performance.now()
  const pusher = new RawClient(server.url, 'big')
  await pusher.ready
  // One message at a time (its step 2 answer shows it was handled): sent back to back, 8 MiB
  // messages overflow the connection's 16 MiB inbound backlog while the first is validated
  // (1013, both before and after the off-loop merge).
  for (const message of messages) {
    pusher.send(syncFrame(UPDATE, message.update))
    await pusher.syncAll(message.stateVector)
  }
  const pushTo = performance.now()
  const pushSample = await server.sample()

  const syncFrom = performance.now()
  const reader = new RawClient(server.url, 'big')
  await reader.ready
  await reader.syncAll()
  const syncTo = performance.now()
  const syncSample = await server.sample()
  pusher.close()
  reader.close()

  // Unload (ROOM_IDLE_MS 500) then load again.
  await sleep(2500)
  await server.sample()
  const loadFrom = performance.now()
  const again = new RawClient(server.url, 'big')
  await again.ready
  await again.syncAll()
  const loadTo = performance.now()
  const loadSample = await server.sample()
  again.close()
  await sleep(1000)
  small.stop()
  await sleep(500)
  small.close()
  await server.stop()

  console.log(
    `baseline         : ${summary(small.between(baseFrom, baseTo))}; eld max ${base.eldMaxMs.toFixed(0)} ms`,
  )
  console.log(
    `push  ${(pushTo - pushFrom).toFixed(0).padStart(6)} ms : ${summary(small.between(pushFrom, pushTo))}; eld max ${pushSample.eldMaxMs.toFixed(0)} ms`,
  )
  console.log(
    `sync  ${(syncTo - syncFrom).toFixed(0).padStart(6)} ms : ${summary(small.between(syncFrom, syncTo))}; eld max ${syncSample.eldMaxMs.toFixed(0)} ms`,
  )
  console.log(
    `load  ${(loadTo - loadFrom).toFixed(0).padStart(6)} ms : ${summary(small.between(loadFrom, loadTo))}; eld max ${loadSample.eldMaxMs.toFixed(0)} ms`,
  )
  console.log(
    `whole run        : ${summary(small.between(pushFrom, loadTo))}; peak RSS ${(loadSample.peakRss / 1e6).toFixed(0)} MB; load ${load()}`,
  )
}

async function paste(): Promise<void> {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const random = prng(7)
  const text = doc.getText('t')
  for (let i = 0; i < 400; i++) {
    let chunk = ''
    while (chunk.length < 64 * 1024) chunk += random().toString(36).slice(2)
    text.insert(text.length, chunk.slice(0, 64 * 1024))
  }
  const docBytes = Y.encodeStateAsUpdate(doc).byteLength
  console.log(`paste: 400 × 64 KB, doc ${(docBytes / 1e6).toFixed(1)} MB; load ${load()}`)
  const server = await startServer({ MEASURE_PROBE_GC: '1' })
  await sleep(500)
  const before = await server.sample()
  const started = performance.now()
  const client = new RawClient(server.url, 'paste')
  await client.ready
  for (const update of updates) client.send(syncFrame(UPDATE, update))
  await client.syncAll()
  const pasted = performance.now() - started
  const after = await server.sample()
  await sleep(3000)
  const settled = await server.sample()
  client.close()
  await server.stop()
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`
  const peak = Math.max(after.peakRss, settled.peakRss)
  console.log(
    `RSS before ${mb(before.rss)}, peak ${mb(peak)} (${(peak / docBytes).toFixed(1)}× the doc, ${((peak - before.rss) / docBytes).toFixed(1)}× above the empty server; compactions run on after the paste), after GC ${mb(settled.rss)}; heap after GC ${mb(settled.heapUsed)}; pasted in ${pasted.toFixed(0)} ms; eld max ${after.eldMaxMs.toFixed(0)} ms`,
  )
}

async function docs(count: number, quietMs: number): Promise<void> {
  const random = prng(3)
  const doc = new Y.Doc()
  const text = doc.getText('t')
  // 600 inserts of 10 characters at random positions, every 10th followed by a deletion: ~23 KB.
  for (let i = 0; i < 600; i++) {
    text.insert(Math.floor(random() * (text.length + 1)), random().toString(36).slice(2, 12))
    if (i % 10 === 9) text.delete(Math.floor(random() * (text.length - 5)), 3)
  }
  const state = Y.encodeStateAsUpdate(doc)
  console.log(`docs: ${count} × ${(state.byteLength / 1000).toFixed(1)} KB; load ${load()}`)
  const server = await startServer({ ROOM_IDLE_MS: '600000', MEASURE_PROBE_GC: '1' })
  await sleep(500)
  const before = await server.sample()
  const clients: RawClient[] = []
  for (let i = 0; i < count; i += 50) {
    const batch: RawClient[] = []
    for (let k = i; k < Math.min(count, i + 50); k++) batch.push(new RawClient(server.url, `doc-${k}`))
    await Promise.all(batch.map((c) => c.ready))
    for (const c of batch) c.send(syncFrame(UPDATE, state))
    await Promise.all(batch.map((c) => c.syncAll()))
    clients.push(...batch)
  }
  await sleep(1000)
  const after = await server.sample()
  const kB = (n: number) => `${(n / count / 1024).toFixed(1)} KB`
  console.log(
    `per doc (incl. one idle connection): heap ${kB(after.heapUsed - before.heapUsed)}, RSS ${kB(after.rss - before.rss)}, external ${kB(after.external - before.external)}`,
  )
  if (quietMs > 0) {
    await sleep(quietMs)
    const quiet = await server.sample()
    console.log(
      `after ${quietMs} ms quiet: heap ${kB(quiet.heapUsed - before.heapUsed)}, RSS ${kB(quiet.rss - before.rss)}, external ${kB(quiet.external - before.external)}`,
    )
  }
  for (const c of clients) c.close()
  await server.stop()
}

if (!values['no-build']) execFileSync('npm', ['run', 'build'], { cwd: values.dir, stdio: 'ignore' })
if (mode === 'stall') await stall(Number(values.mb))
else if (mode === 'paste') await paste()
else if (mode === 'docs') await docs(Number(values.docs), Number(values['quiet-ms']))
else throw new Error(`unknown mode ${mode}`)
process.exit(0)
