/** Scenario 4: RSS and heap per idle connection and per loaded doc. */
import { type Ctx, type Metrics, needsYjsClient, type Scenario, sleep, type Variant } from './scenario.js'

const SEED_EDITS = 2000
const SETTLE_MS = 1000

export const memory: Scenario = {
  id: 'memory',
  title: 'Memory per idle connection and per loaded doc',
  method: `Fresh server per measurement. Idle: N clients join one empty doc and stay idle; per connection = (RSS after - RSS before) / N. Docs: D docs, each opened by one client holding a ${SEED_EDITS}-edit typed document (about 2 KB of text, same bytes for all targets); per doc = (RSS after - before) / D minus the per-connection figure. Memory is read by the probe inside the server after ${SETTLE_MS} ms settle (no forced GC), so single figures are noisy: compare medians.`,
  metrics: [
    { key: 'rssPerConn', label: 'RSS per idle connection', unit: 'KB', better: 'lower' },
    { key: 'heapPerConn', label: 'heap per idle connection', unit: 'KB', better: 'lower' },
    { key: 'rssPerDoc', label: 'RSS per loaded doc', unit: 'KB', better: 'lower' },
    { key: 'heapPerDoc', label: 'heap per loaded doc', unit: 'KB', better: 'lower' },
    { key: 'rssIdle', label: 'RSS of an empty server', unit: 'MB', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small'
      ? { label: '200 conns / 100 docs', params: { conns: 200, docs: 100 } }
      : { label: '1000 conns / 500 docs', params: { conns: 1000, docs: 500 } },
  ],
  skip: needsYjsClient,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const out: Metrics[] = []
    const protocol = ctx.target.protocol
    for (let rep = 0; rep < ctx.heavyReps; rep++) {
      const conns = v.params.conns!
      const docs = v.params.docs!
      const lg = ctx.loadGen()

      const s1 = await ctx.server()
      await sleep(SETTLE_MS)
      const idle0 = await s1.sample()
      await lg.call(
        'open',
        {
          url: s1.url,
          protocol,
          rooms: [ctx.room(`mem-idle-${rep}`)],
          writersPerRoom: 0,
          readersPerRoom: conns,
          timeoutMs: 60_000,
        },
        120_000,
      )
      await sleep(SETTLE_MS)
      const idle1 = await s1.sample()
      await lg.call('closeAll', {}, 20_000)
      await s1.stop()

      const s2 = await ctx.server()
      await sleep(SETTLE_MS)
      const doc0 = await s2.sample()
      const rooms = Array.from({ length: docs }, (_, i) => ctx.room(`mem-doc-${rep}-${i}`))
      await lg.call(
        'open',
        {
          url: s2.url,
          protocol,
          rooms,
          writersPerRoom: 0,
          readersPerRoom: 1,
          seedEdits: SEED_EDITS,
          timeoutMs: 60_000,
        },
        120_000,
      )
      await sleep(SETTLE_MS)
      const doc1 = await s2.sample()
      await lg.call('closeAll', {}, 20_000)
      await s2.stop()
      await lg.stop()

      const rssPerConn = (idle1.rss - idle0.rss) / conns / 1024
      const heapPerConn = (idle1.heapUsed - idle0.heapUsed) / conns / 1024
      out.push({
        rssPerConn,
        heapPerConn,
        rssPerDoc: (doc1.rss - doc0.rss) / docs / 1024 - rssPerConn,
        heapPerDoc: (doc1.heapUsed - doc0.heapUsed) / docs / 1024 - heapPerConn,
        rssIdle: idle0.rss / 1024 / 1024,
      })
    }
    return out
  },
}
