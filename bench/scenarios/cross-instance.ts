/** Scenario 2: writer on instance A, readers on instance B, Redis between. */
import { windowParams } from './fanout.js'
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

export const crossInstance: Scenario = {
  id: 'cross-instance',
  title: 'Cross-instance fan-out (Redis between two instances)',
  method:
    'Two instances of the server share a Redis of their own (fresh redis-server, no persistence). 1 writer on instance A types 20 edits/s; N readers on instance B. Latency, reach and CPU (summed over both instances) as in fan-out.',
  metrics: LATENCY_METRICS,
  variants: (size) => [
    size === 'small'
      ? { label: '10 readers', params: { readers: 10 } }
      : { label: '100 readers', params: { readers: 100 } },
  ],
  skip: (t) => needsYjsClient(t) ?? (t.supportsCluster ? null : 'no cross-instance mode'),
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const redisUrl = await ctx.redis()
    const redisPrefix = ctx.room('hp')
    const a = await ctx.server({ redisUrl, redisPrefix, instanceId: 'bench-a' })
    const b = await ctx.server({ redisUrl, redisPrefix, instanceId: 'bench-b' })
    const lg = ctx.loadGen()
    const out: Metrics[] = []
    for (let rep = 0; rep < ctx.reps; rep++) {
      const room = ctx.room(`cross-${v.params.readers}-${rep}`)
      const protocol = ctx.target.protocol
      await lg.call(
        'open',
        { url: a.url, protocol, rooms: [room], writersPerRoom: 1, readersPerRoom: 0, timeoutMs: 30_000 },
        60_000,
      )
      await lg.call(
        'open',
        {
          url: b.url,
          protocol,
          rooms: [room],
          writersPerRoom: 0,
          readersPerRoom: v.params.readers!,
          timeoutMs: 30_000,
        },
        60_000,
      )
      const m = await measureTyping(lg, [a, b], windowParams(ctx.quick), 60_000)
      out.push(latencyMetrics(m))
      await lg.call('closeAll', {}, 10_000)
    }
    return out
  },
}
