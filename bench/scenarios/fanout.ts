/**
 * Scenario 1: one writer typing steadily, N readers on the same doc, one instance. Light
 * generator by default (raw readers, the floor runs too); `--gen yjs` uses real providers.
 */
import {
  type Ctx,
  LATENCY_METRICS,
  latencyMetrics,
  type Metrics,
  measureLight,
  measureTyping,
  needsYjsClient,
  type Scenario,
  type Variant,
} from './scenario.js'

export const RATE = 20

export const fanout: Scenario = {
  id: 'fanout',
  title: 'Fan-out latency (one instance)',
  method: `1 writer types ${RATE} edits/s into one doc; N readers (N = 10 / 200 / 500) on the same doc time each edit from the writer's send to their own receipt. Light generator (raw readers, header-only timing; the bare relay is the floor); --gen yjs: stock providers applying every update. Warm-up excluded.`,
  metrics: LATENCY_METRICS,
  variants: (size) =>
    size === 'small'
      ? [10, 200].map((n) => ({ label: `${n} readers`, params: { readers: n } }))
      : [{ label: '500 readers', params: { readers: 500 } }],
  skip: () => null,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const light = ctx.gen('light') === 'light'
    const why = light ? null : needsYjsClient(ctx.target)
    if (why) throw new Error(why)
    const server = await ctx.server()
    const lightGen = light ? ctx.lightGen(1) : undefined
    const yjsGen = light ? undefined : ctx.loadGen()
    const out: Metrics[] = []
    for (let rep = 0; rep < ctx.reps; rep++) {
      const open = {
        url: server.url,
        protocol: ctx.target.protocol,
        rooms: [ctx.room(`fanout-${v.params.readers}-${rep}`)],
        writersPerRoom: 1,
        readersPerRoom: v.params.readers!,
        timeoutMs: 30_000,
      }
      const params = windowParams(ctx.quick)
      if (lightGen) {
        await lightGen.open(open, 60_000)
        out.push(latencyMetrics(await measureLight(lightGen, [server], params, 60_000)))
        await lightGen.closeAll()
      } else if (yjsGen) {
        await yjsGen.call('open', open, 60_000)
        out.push(latencyMetrics(await measureTyping(yjsGen, [server], params, 60_000)))
        await yjsGen.call('closeAll', {}, 10_000)
      }
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
