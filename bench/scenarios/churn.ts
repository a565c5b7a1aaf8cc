/** Scenario 6: every client drops and reconnects at once; time until all are resynced. */
import { type Ctx, type Metrics, needsYjsClient, type Scenario, sleep, type Variant } from './scenario.js'

export const churn: Scenario = {
  id: 'churn',
  title: 'Reconnect burst (churn)',
  method:
    'C clients spread over docs of 500 typed edits each. All clients disconnect, and once every socket is closed all reconnect in the same tick; we time each client until it is synced again. One warm-up burst is excluded; each repetition is one burst.',
  metrics: [
    { key: 'allMs', label: 'all resynced', unit: 'ms', better: 'lower' },
    { key: 'p50', label: 'per-client resync p50', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'per-client resync p99', unit: 'ms', better: 'lower' },
    { key: 'resynced', label: 'resynced', unit: '%', better: 'higher' },
    { key: 'cpuS', label: 'server CPU for the burst', unit: 's', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small'
      ? { label: '100 clients / 20 docs', params: { clients: 100, docs: 20 } }
      : { label: '500 clients / 50 docs', params: { clients: 500, docs: 50 } },
  ],
  skip: needsYjsClient,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
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
        seedEdits: 500,
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
  },
}
