/** Scenario 1: one writer typing steadily, N readers on the same doc, one instance. */
import {
  type Ctx,
  LATENCY_METRICS,
  latencyMetrics,
  type Metrics,
  measureTyping,
  needsYjsClient,
  type Scenario,
  type Variant,
} from './scenario.js'

export const RATE = 20

export const fanout: Scenario = {
  id: 'fanout',
  title: 'Fan-out latency (one instance)',
  method: `1 writer types ${RATE} edits/s into one doc; N readers (N = 10 / 100 / 500) on the same doc in the load generator time each edit from the writer's send to their own observe. Warm-up excluded.`,
  metrics: LATENCY_METRICS,
  variants: (size) =>
    size === 'small'
      ? [{ label: '10 readers', params: { readers: 10 } }]
      : [100, 500].map((n) => ({ label: `${n} readers`, params: { readers: n } })),
  skip: needsYjsClient,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const server = await ctx.server()
    const lg = ctx.loadGen()
    const out: Metrics[] = []
    for (let rep = 0; rep < ctx.reps; rep++) {
      const room = ctx.room(`fanout-${v.params.readers}-${rep}`)
      await lg.call(
        'open',
        {
          url: server.url,
          protocol: ctx.target.protocol,
          rooms: [room],
          writersPerRoom: 1,
          readersPerRoom: v.params.readers!,
          timeoutMs: 30_000,
        },
        60_000,
      )
      const m = await measureTyping(lg, [server], windowParams(ctx.quick), 60_000)
      out.push(latencyMetrics(m))
      await lg.call('closeAll', {}, 10_000)
    }
    return out
  },
}

export function windowParams(
  quick: boolean,
  rate = RATE,
): { rate: number; warmupMs: number; durationMs: number; drainMs: number } {
  return quick
    ? { rate, warmupMs: 500, durationMs: 1500, drainMs: 2000 }
    : { rate, warmupMs: 1500, durationMs: 8000, drainMs: 5000 }
}
