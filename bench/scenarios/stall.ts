/** Scenario 7: latency on a small doc while a big doc is loaded into the same server. */
import {
  type Ctx,
  type Metrics,
  measureTyping,
  needsYjsClient,
  type Scenario,
  sleep,
  type Variant,
} from './scenario.js'

export const stall: Scenario = {
  id: 'stall',
  title: 'Event-loop stall (small doc while a big doc loads)',
  method:
    'A writer types 50 edits/s into a small doc with 5 readers. Baseline window first; then, in a second window, another load-generator process pushes a big doc (4 KiB inserts at random positions, so thousands of items) into the server and a second client syncs it back. Reported: small-doc latency in both windows, the server event-loop delay, and how long the big push and sync took.',
  metrics: [
    { key: 'baseP99', label: 'small doc p99, baseline', unit: 'ms', better: 'lower' },
    { key: 'p50', label: 'small doc p50, during load', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'small doc p99, during load', unit: 'ms', better: 'lower' },
    { key: 'max', label: 'small doc max, during load', unit: 'ms', better: 'lower' },
    { key: 'eldMax', label: 'server event-loop delay max', unit: 'ms', better: 'lower' },
    { key: 'pushMs', label: 'big doc push (connect -> synced)', unit: 'ms', better: 'lower' },
    { key: 'syncMs', label: 'big doc sync to a 2nd client', unit: 'ms', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small' ? { label: '5 MB doc', params: { mb: 5 } } : { label: '50 MB doc', params: { mb: 50 } },
  ],
  skip: needsYjsClient,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const out: Metrics[] = []
    const protocol = ctx.target.protocol
    for (let rep = 0; rep < ctx.heavyReps; rep++) {
      const server = await ctx.server()
      const lg = ctx.loadGen()
      const big = ctx.loadGen()
      await lg.call(
        'open',
        {
          url: server.url,
          protocol,
          rooms: [ctx.room(`stall-small-${rep}`)],
          writersPerRoom: 1,
          readersPerRoom: 5,
          timeoutMs: 30_000,
        },
        60_000,
      )
      const base = await measureTyping(
        lg,
        [server],
        { rate: 50, warmupMs: 500, durationMs: ctx.quick ? 1000 : 4000, drainMs: 2000 },
        60_000,
      )
      const windowMs = ctx.quick ? 3000 : 12_000
      const during = measureTyping(
        lg,
        [server],
        { rate: 50, warmupMs: 300, durationMs: windowMs, drainMs: 60_000 },
        180_000,
      )
      await sleep(500)
      const loaded = await big.call(
        'bigLoad',
        {
          url: server.url,
          protocol,
          room: ctx.room(`stall-big-${rep}`),
          bytes: v.params.mb! * 1024 * 1024,
          timeoutMs: 120_000,
        },
        150_000,
      )
      const m = await during
      if (loaded.pushMs + loaded.syncMs > windowMs)
        ctx.notes.push(`rep ${rep}: the big doc took longer than the measured window`)
      out.push({
        baseP99: base.res.latency.p99,
        p50: m.res.latency.p50,
        p99: m.res.latency.p99,
        max: m.res.latency.max,
        eldMax: m.eldMax,
        pushMs: loaded.pushMs,
        syncMs: loaded.syncMs,
      })
      await lg.call('closeAll', {}, 20_000)
      await Promise.all([lg.stop(), big.stop(), server.stop()])
    }
    return out
  },
}
