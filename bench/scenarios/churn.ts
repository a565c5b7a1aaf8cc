/**
 * Scenario 6: every client drops and reconnects at once; time until each is synced again.
 * Light clients by default (the floor runs too: connect only, it has no sync); --gen yjs uses
 * stock providers.
 */
import { percentile } from '../light/handle.js'
import { type Ctx, type Metrics, needsYjsClient, type Scenario, sleep, type Variant } from './scenario.js'

const SEED_EDITS_PER_DOC = 500

export const churn: Scenario = {
  id: 'churn',
  title: 'Reconnect burst (churn)',
  method: `C clients spread over D docs of ${SEED_EDITS_PER_DOC} typed edits each. All clients disconnect, and once every socket is closed all reconnect in the same tick; each client is timed from that tick to synced (its sync step 2 arrived; the floor: socket open). One warm-up burst is excluded; each repetition is one burst. Light clients by default (the docs are typed by one light writer per doc); --gen yjs: stock providers.`,
  metrics: [
    { key: 'allMs', label: 'all resynced', unit: 'ms', better: 'lower' },
    { key: 'p50', label: 'per-client connect+sync p50', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'per-client connect+sync p99', unit: 'ms', better: 'lower' },
    { key: 'resynced', label: 'resynced', unit: '%', better: 'higher' },
    { key: 'cpuS', label: 'server CPU for the burst', unit: 's', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small'
      ? { label: '500 clients / 50 docs', params: { clients: 500, docs: 50 } }
      : { label: '1000 clients / 100 docs', params: { clients: 1000, docs: 100 } },
  ],
  skip: () => null,
  run: (ctx, v) => (ctx.gen('light') === 'light' ? churnLight(ctx, v) : churnYjs(ctx, v)),
}

async function churnLight(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const server = await ctx.server()
  const gen = ctx.lightGen(1)
  const docs = v.params.docs!
  const rooms = Array.from({ length: docs }, (_, i) => ctx.room(`churn-${i}`))
  await gen.open(
    {
      url: server.url,
      protocol: ctx.target.protocol,
      rooms,
      writersPerRoom: 1,
      readersPerRoom: v.params.clients! / docs - 1,
      timeoutMs: 60_000,
    },
    120_000,
  )
  // Type the docs: SEED_EDITS_PER_DOC per doc over ~2 s.
  const rate = (docs * SEED_EDITS_PER_DOC) / 2
  await gen.run({ rate, warmupMs: 0, durationMs: 2000, drainMs: 10_000 }, 60_000)
  const out: Metrics[] = []
  for (let rep = -1; rep < ctx.reps; rep++) {
    await sleep(300)
    const before = await server.sample()
    const r = await gen.reconnect(30_000)
    const after = await server.sample()
    if (rep < 0) continue
    out.push({
      allMs: r.totalMs,
      p50: percentile(r.times, 50),
      p99: percentile(r.times, 99),
      resynced: (100 * r.resynced) / r.total,
      cpuS: (after.cpuUs - before.cpuUs) / 1e6,
    })
  }
  return out
}

async function churnYjs(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const why = needsYjsClient(ctx.target)
  if (why) throw new Error(why)
  const server = await ctx.server()
  const lg = ctx.loadGen()
  const docs = v.params.docs!
  const rooms = Array.from({ length: docs }, (_, i) => ctx.room(`churn-${i}`))
  await lg.call(
    'open',
    {
      url: server.url,
      protocol: ctx.target.protocol,
      rooms,
      writersPerRoom: 0,
      readersPerRoom: v.params.clients! / docs,
      seedEdits: SEED_EDITS_PER_DOC,
      timeoutMs: 60_000,
    },
    120_000,
  )
  const out: Metrics[] = []
  for (let rep = -1; rep < ctx.reps; rep++) {
    await sleep(300)
    const before = await server.sample()
    const r = await lg.call('reconnect', { timeoutMs: 30_000 }, 60_000)
    const after = await server.sample()
    if (rep < 0) continue
    out.push({
      allMs: r.totalMs,
      p50: r.p50,
      p99: r.p99,
      resynced: (100 * r.resynced) / r.total,
      cpuS: (after.cpuUs - before.cpuUs) / 1e6,
    })
  }
  return out
}
