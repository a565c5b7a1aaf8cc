/**
 * Measures what a restart costs the docs that are edited again right after it (issue 16, the
 * 1,000-doc tail): one or more checkouts of our server, interleaved round by round so a shared
 * box's load hits them alike. Uses the bench's light generator and probe (server on CPU 0,
 * generator on CPU 1).
 *
 * Per checkout and round: a fresh data dir; D docs x 3 writers type at --rate for --grow-s
 * seconds (the docs grow); the server stops and starts again on the same dir; the 3·D clients
 * reconnect; after --settle-ms, two windows at --rate with no warm-up:
 *   storm   — the first edits after the restart (every doc gets its first within 3·D/rate s)
 *   steady  — the same again right after, every doc already edited once
 * For each: server CPU-ms, delivery p99 / max, event-loop delay max. storm − steady is what
 * the restart's first edits cost on top of the traffic. Also the server's CPU-ms while the
 * clients reconnected (loads and first syncs).
 *
 *   npx tsx scripts/measure-restart-storm.ts --ours /work/main,. [--docs 1000] [--rate 3000]
 *     [--grow-s 4] [--window-s 1.5] [--rounds 3] [--out results.json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { LightGen } from '../bench/light/handle.js'
import { canPin } from '../bench/proc.js'
import { LOAD_CPU, latencyMetrics, measureLight, SERVER_CPU, sleep } from '../bench/scenarios/scenario.js'
import { oursTarget } from '../bench/targets/ours.js'
import type { RunningServer, Target } from '../bench/targets/target.js'

const { values } = parseArgs({
  options: {
    ours: { type: 'string', default: '.' },
    docs: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '3000' },
    'grow-s': { type: 'string', default: '4' },
    'window-s': { type: 'string', default: '1.5' },
    'settle-ms': { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
})

const docs = Number(values.docs)
const rate = Number(values.rate)
const growMs = Number(values['grow-s']) * 1000
const windowMs = Number(values['window-s']) * 1000
const settleMs = Number(values['settle-ms'])
const rounds = Number(values.rounds)
const pinned = canPin()
const serverCpu = pinned ? SERVER_CPU : undefined

interface WindowFigures {
  cpuMs: number
  p99: number
  max: number
  eldMax: number
  reach: number
}

interface RoundResult {
  checkout: string
  round: number
  load: number
  /** Server CPU-ms while the 3·D clients reconnected and synced (loads, first syncs). */
  reconnectCpuMs: number
  storm: WindowFigures
  steady: WindowFigures
}

async function window(gen: LightGen, server: RunningServer): Promise<WindowFigures> {
  const m = await measureLight(
    gen,
    [server],
    { rate, warmupMs: 0, durationMs: windowMs, drainMs: 2000 },
    120_000,
  )
  const lm = latencyMetrics(m)
  return {
    cpuMs: Math.round(m.serverCpuS * 1000),
    p99: lm.p99 ?? Number.NaN,
    max: lm.max ?? Number.NaN,
    eldMax: m.eldMax,
    reach: lm.reach ?? Number.NaN,
  }
}

async function oneRound(target: Target, checkout: string, round: number): Promise<RoundResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yws-restart-storm-'))
  const gen = new LightGen(pinned ? LOAD_CPU : undefined, 1)
  const rooms = Array.from({ length: docs }, (_, i) => `storm-${round}-${i}`)
  const openParams = {
    protocol: 'y-websocket' as const,
    rooms,
    writersPerRoom: 3,
    readersPerRoom: 0,
    timeoutMs: 60_000,
  }
  let server: RunningServer | undefined
  try {
    server = await target.start({ dataDir, cpu: serverCpu })
    await gen.open({ url: server.url, ...openParams }, 180_000)
    await gen.run({ rate, warmupMs: 0, durationMs: growMs, drainMs: 2000 }, 120_000)
    await gen.closeAll()
    await server.stop()
    server = await target.start({ dataDir, cpu: serverCpu })
    const load = loadavg()[0] ?? 0
    const before = await server.sample()
    await gen.open({ url: server.url, ...openParams }, 180_000)
    const reconnectCpuMs = Math.round(((await server.sample()).cpuUs - before.cpuUs) / 1000)
    await sleep(settleMs)
    const storm = await window(gen, server)
    const steady = await window(gen, server)
    await gen.closeAll()
    return { checkout, round, load, reconnectCpuMs, storm, steady }
  } finally {
    await server?.stop()
    await gen.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const checkouts = values.ours.split(',').map((dir) => resolve(dir))
const targets = checkouts.map((dir) => oursTarget(dir))
const results: RoundResult[] = []
const show = (w: WindowFigures): string =>
  `cpu ${w.cpuMs} ms, p99 ${w.p99.toFixed(1)} ms, max ${w.max.toFixed(1)} ms, eld max ${w.eldMax.toFixed(0)} ms, reach ${w.reach.toFixed(1)} %`
process.stdout.write(
  `${docs} docs x 3 writers, ${rate} edits/s, grow ${growMs / 1000} s, windows ${windowMs / 1000} s${pinned ? '' : ' (not pinned)'}\n`,
)
for (let round = 0; round < rounds; round++) {
  for (const [i, target] of targets.entries()) {
    const r = await oneRound(target, checkouts[i] as string, round)
    results.push(r)
    process.stdout.write(
      `round ${round} ${target.version} (load ${r.load.toFixed(1)})\n  reconnect: cpu ${r.reconnectCpuMs} ms\n  storm:  ${show(r.storm)}\n  steady: ${show(r.steady)}\n  storm - steady: ${r.storm.cpuMs - r.steady.cpuMs} CPU-ms\n`,
    )
  }
}
for (const [i, checkout] of checkouts.entries()) {
  const mine = results.filter((r) => r.checkout === checkout)
  const median = (f: (r: RoundResult) => number): number => {
    const xs = mine.map(f).sort((a, b) => a - b)
    return xs[Math.floor(xs.length / 2)] ?? Number.NaN
  }
  process.stdout.write(
    `median ${targets[i]?.version}: reconnect cpu ${median((r) => r.reconnectCpuMs)} ms; storm cpu ${median((r) => r.storm.cpuMs)} ms / steady ${median((r) => r.steady.cpuMs)} ms, extra ${median((r) => r.storm.cpuMs - r.steady.cpuMs)} ms; storm p99 ${median((r) => r.storm.p99).toFixed(1)} ms / steady ${median((r) => r.steady.p99).toFixed(1)} ms; storm eld max ${median((r) => r.storm.eldMax)} ms\n`,
  )
}
if (values.out) writeFileSync(values.out, JSON.stringify(results, null, 2))
