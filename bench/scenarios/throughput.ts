/** Scenario 3: many docs x few editors; raise the rate until p99 > 100 ms. */
import {
  type Ctx,
  latencyMetrics,
  type Metrics,
  measureTyping,
  type Scenario,
  sleep,
  type Variant,
} from './scenario.js'

const P99_LIMIT_MS = 100

export const throughput: Scenario = {
  id: 'throughput',
  title: 'Throughput (many docs x 3 editors, rate ramp)',
  method: `D docs with 3 editors each (every editor also reads the others). The total edit rate starts at 100/s (quick: 200/s) and grows x1.5 per step until p99 > ${P99_LIMIT_MS} ms, fewer than 99 % of deliveries arrive, or the generator cannot send the target rate. A failing step is repeated once before the ramp stops. Sustained = last step within the limits. CPU figures are at that step.`,
  metrics: [
    { key: 'sustained', label: 'sustained edits/s', unit: '/s', better: 'higher' },
    { key: 'delivered', label: 'delivered updates/s', unit: '/s', better: 'higher' },
    { key: 'p50', label: 'latency p50 at sustained', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'latency p99 at sustained', unit: 'ms', better: 'lower' },
    { key: 'cpuPer1k', label: 'server CPU-ms per 1k delivered', unit: 'ms', better: 'lower' },
    { key: 'serverCpu', label: 'server CPU at sustained', unit: '%', better: 'lower' },
    { key: 'loadgenCpu', label: 'load generator CPU at sustained', unit: '%', better: 'lower' },
    { key: 'eldP99', label: 'server event-loop delay p99', unit: 'ms', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small'
      ? { label: '20 docs x 3', params: { docs: 20 } }
      : { label: '100 docs x 3', params: { docs: 100 } },
  ],
  skip: () => null,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const server = await ctx.server()
    const lg = ctx.loadGen()
    const out: Metrics[] = []
    for (let rep = 0; rep < ctx.heavyReps; rep++) {
      const rooms = Array.from({ length: v.params.docs! }, (_, i) => ctx.room(`tp-${rep}-${i}`))
      await lg.call(
        'open',
        {
          url: server.url,
          protocol: ctx.target.protocol,
          rooms,
          writersPerRoom: 3,
          readersPerRoom: 0,
          timeoutMs: 30_000,
        },
        60_000,
      )
      // Let connect-time traffic (awareness, first stores) finish before the first step.
      await sleep(2000)
      let best: Metrics | undefined
      let retried = false
      const steps: string[] = []
      const maxSteps = ctx.quick ? 7 : 12
      let rate = ctx.quick ? 200 : 100
      for (let step = 0; step < maxSteps; step++) {
        const params = ctx.quick
          ? { rate, warmupMs: 300, durationMs: 1000, drainMs: 1000 }
          : { rate, warmupMs: 500, durationMs: 2500, drainMs: 2000 }
        const m = await measureTyping(lg, [server], params, 60_000)
        const lm = latencyMetrics(m)
        const ok = lm.p99! <= P99_LIMIT_MS && lm.reach! >= 99 && m.res.achievedRate >= 0.9 * rate
        steps.push(
          `${rate}/s: p99 ${lm.p99} ms, reach ${lm.reach!.toFixed(1)} %, sent ${m.res.achievedRate.toFixed(0)}/s, loadgen ${lm.loadgenCpu!.toFixed(0)} %${ok ? '' : ' (stop)'}`,
        )
        if (!ok && !retried) {
          // One spike (GC, a debounced store) should not end the ramp: repeat the step once.
          retried = true
          step -= 1
          continue
        }
        if (!ok) {
          if (m.res.achievedRate < 0.9 * rate || lm.loadgenCpu! > 90)
            ctx.notes.push(`rep ${rep}: the load generator, not the server, limited the ramp at ${rate}/s`)
          break
        }
        retried = false
        best = { ...lm, sustained: m.res.achievedRate, delivered: m.res.delivered / m.res.windowS }
        rate = Math.round(rate * 1.5)
        if (step === maxSteps - 1)
          ctx.notes.push(`rep ${rep}: ramp ended at its step limit, not at a limit of the server`)
      }
      ctx.notes.push(`rep ${rep} ramp: ${steps.join('; ')}`)
      out.push(best ?? { sustained: 0 })
      await lg.call('closeAll', {}, 20_000)
    }
    return out
  },
}
