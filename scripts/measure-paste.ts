/**
 * Where a big paste's memory goes: the bench's memory scenario (bench/scenarios/memory.ts) paste,
 * against the compiled server (`dist/main.js`, built first unless --no-build), with the server
 * sampled every 100 ms by scripts/measure-paste-probe.mjs (RSS, VmHWM, the main isolate's heap,
 * external and ArrayBuffer bytes, each worker thread's V8 heap). The server runs on CPU 0; run
 * this on CPU 1 (`taskset -c 1 npx tsx scripts/measure-paste.ts`).
 *
 * One run: a fresh server (temp data dir, removed after); a GC'd idle sample; one client pastes
 * 400 × 64 KB (one insert per message, random chunk boundaries: bench/light/bulk.ts) until a
 * second client holds it all ("paste"); a fresh client syncs it ("sync"); then --after-ms of
 * quiet (compaction, the store's flush: "after"). Prints, per phase, the maxima of each sampled
 * figure and where the peak RSS fell; `--runs N` repeats it (A/B: `--dir` another checkout).
 *
 *   peak × = VmHWM ÷ doc bytes; growth × = (VmHWM − idle RSS) ÷ doc bytes (as the bench).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BulkTrace } from '../bench/light/bulk.js'
import { LightClient } from '../bench/light/client.js'

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.' },
    'no-build': { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    'after-ms': { type: 'string', default: '5000' },
    env: { type: 'string', multiple: true, default: [] },
    /** Extra node flags for the server, space-separated (e.g. --max-semi-space-size=4). */
    'node-args': { type: 'string', default: '' },
    /** A command to run the server under, space-separated (e.g. 'heaptrack -o /tmp/ht'). */
    wrap: { type: 'string', default: '' },
    /** Print the samples as a timeline every this many ms (0: no timeline). */
    timeline: { type: 'string', default: '0' },
  },
})
const dir = resolve(values.dir)
const extraEnv = Object.fromEntries(values.env.map((pair) => pair.split('=', 2) as [string, string]))
const CHUNKS = 400
const CHUNK_CHARS = 64 * 1024
const CLIENT = 2_000_000_002
const MB = (n: number) => (n / 1e6).toFixed(0)

interface Sample {
  t: number
  pid: number
  rss: number
  hwm: number
  anon: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  workers: { title: string; used: number; total: number }[]
  mark?: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function run(port: number): Promise<{ peak: number; idle: number; docBytes: number }> {
  const tmp = await mkdtemp(join(tmpdir(), 'yws-measure-paste-'))
  const file = join(tmp, 'samples.jsonl')
  const child: ChildProcess = spawn(
    'taskset',
    [
      '-c',
      '0',
      ...values.wrap.split(' ').filter(Boolean),
      process.execPath,
      '--expose-gc',
      ...values['node-args'].split(' ').filter(Boolean),
      '--import',
      new URL('./measure-paste-probe.mjs', import.meta.url).pathname,
      'dist/main.js',
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(tmp, 'data'),
        LOG_LEVEL: 'warn',
        MEASURE_PASTE_FILE: file,
        ...extraEnv,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  const url = `ws://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (i > 300) throw new Error('server did not become ready')
    await sleep(100)
  }
  await sleep(1000)
  // The node process itself (under --wrap, the child is the wrapper).
  const pid = (JSON.parse((await readFile(file, 'utf8')).split('\n')[0]!) as Sample).pid
  const signal = (name: NodeJS.Signals) => process.kill(pid, name)
  signal('SIGUSR2')
  await sleep(300)
  const marks: { name: string; t: number }[] = [{ name: 'idle', t: Date.now() }]
  const trace = new BulkTrace(CLIENT, CLIENT, CHUNK_CHARS)
  const messages = trace.messages(CHUNKS * CHUNK_CHARS, CHUNK_CHARS + 100)
  const checker = new LightClient(url, 'paste', 'y-websocket', undefined)
  checker.seen = new Map()
  const pusher = new LightClient(url, 'paste', 'y-websocket', undefined)
  await checker.connect(60_000)
  await pusher.connect(60_000)
  marks.push({ name: 'paste', t: Date.now() })
  for (const m of messages) await pusher.sendAndFlush(m)
  await checker.whenSeen(CLIENT, trace.clock, 120_000)
  await Promise.all([pusher.close(), checker.close()])
  marks.push({ name: 'sync', t: Date.now() })
  const fresh = new LightClient(url, 'paste', 'y-websocket', undefined)
  fresh.seen = new Map()
  await fresh.connect(60_000)
  await fresh.whenSeen(CLIENT, trace.clock, 120_000, 2000)
  await fresh.close()
  marks.push({ name: 'after', t: Date.now() })
  await sleep(Number(values['after-ms']))
  signal('SIGUSR2')
  await sleep(300)
  marks.push({ name: 'end', t: Date.now() })
  const exited = new Promise((r) => child.once('exit', r))
  signal('SIGTERM')
  await exited
  const samples = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Sample)
  await rm(tmp, { recursive: true, force: true, maxRetries: 5 })
  const idle = samples.find((s) => s.mark === 'gc')!
  const docBytes = trace.clock
  const bigWorker = (s: Sample) => s.workers.find((w) => w.title.startsWith('big-doc'))?.used ?? 0
  const bigWorkerTotal = (s: Sample) => s.workers.find((w) => w.title.startsWith('big-doc'))?.total ?? 0
  const poolWorkers = (s: Sample) =>
    s.workers.filter((w) => !w.title.startsWith('big-doc')).reduce((a, w) => a + w.used, 0)
  const cols = [
    'rss',
    'anon',
    'heapUsed',
    'heapTotal',
    'external',
    'arrayBufs',
    'bigWorker',
    'bigWTotal',
    'poolWorkers',
  ]
  const get = (s: Sample): number[] => [
    s.rss,
    s.anon,
    s.heapUsed,
    s.heapTotal,
    s.external,
    s.arrayBuffers,
    bigWorker(s),
    bigWorkerTotal(s),
    poolWorkers(s),
  ]
  console.log(
    `  phase   ms     ${cols.map((c) => c.padStart(11)).join('')}   (max MB in the phase; VmHWM at its end)`,
  )
  console.log(
    `  idle(gc)       ${get(idle)
      .map((v) => MB(v).padStart(11))
      .join('')}`,
  )
  for (let i = 1; i < marks.length - 1; i++) {
    const from = marks[i]!.t
    const to = marks[i + 1]!.t
    const inPhase = samples.filter((s) => s.t >= from && s.t < to)
    if (inPhase.length === 0) continue
    const max = cols.map((_, c) => Math.max(...inPhase.map((s) => get(s)[c]!)))
    const hwm = inPhase[inPhase.length - 1]!.hwm
    console.log(
      `  ${marks[i]!.name.padEnd(6)} ${String(to - from).padStart(6)} ${max.map((v) => MB(v).padStart(11)).join('')}   VmHWM ${MB(hwm)}`,
    )
  }
  const timeline = Number(values.timeline)
  if (timeline > 0) {
    let next = 0
    for (const s of samples) {
      if (s.t < next) continue
      next = s.t + timeline
      const phase = [...marks].reverse().find((m) => m.t <= s.t)?.name ?? '-'
      console.log(
        `    +${String(s.t - marks[0]!.t).padStart(6)} ${phase.padEnd(6)} ${get(s)
          .map((v) => MB(v).padStart(6))
          .join('')}  hwm ${MB(s.hwm)}`,
      )
    }
  }
  const peak = samples[samples.length - 1]!.hwm
  return { peak, idle: idle.rss, docBytes }
}

if (!values['no-build']) execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' })
const runs = Number(values.runs)
for (let i = 0; i < runs; i++) {
  const { peak, idle, docBytes } = await run(24000 + Math.floor(Math.random() * 2000))
  console.log(
    `run ${i + 1}: doc ${MB(docBytes)} MB, idle ${MB(idle)} MB, peak ${MB(peak)} MB = ${(peak / docBytes).toFixed(1)}×, growth ${((peak - idle) / docBytes).toFixed(1)}×; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
}
process.exit(0)
