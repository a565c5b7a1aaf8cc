/** Scenario 5: time to first sync of a doc with many stored updates, before/after compaction. */
import { type Ctx, type Metrics, needsYjsClient, type Scenario, type Variant } from './scenario.js'

export const coldLoad: Scenario = {
  id: 'cold-load',
  title: 'Cold load from storage',
  method:
    'A client types K edits (one update each) into a fresh server with a fresh data dir; a second client checks the server holds them all. The server is stopped (SIGTERM, it flushes), restarted on the same data dir, and a new client times connect -> synced with the full text (load 1, the stored updates as written). Then stop, compaction (ours: `scripts/compact.ts` if the checkout has it; y-websocket-server: y-leveldb merges on load 1 by itself; Hocuspocus stores one snapshot, so nothing to compact), restart, time again (load 2).',
  metrics: [
    { key: 'load1', label: 'first sync, as written', unit: 'ms', better: 'lower' },
    { key: 'load2', label: 'first sync, after compaction', unit: 'ms', better: 'lower' },
    { key: 'writeRate', label: 'ingest while populating', unit: 'edits/s', better: 'higher' },
    { key: 'docKB', label: 'encoded doc size', unit: 'KB', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small'
      ? { label: '10k updates', params: { edits: 10_000 } }
      : { label: '100k updates', params: { edits: 100_000 } },
  ],
  skip: needsYjsClient,
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const out: Metrics[] = []
    const protocol = ctx.target.protocol
    const timeoutMs = 120_000
    for (let rep = 0; rep < ctx.heavyReps; rep++) {
      const dataDir = ctx.tmpDir()
      const room = ctx.room(`cold-${v.params.edits}-${rep}`)
      const lg = ctx.loadGen()
      let s = await ctx.server({ dataDir })
      const pop = await lg.call(
        'populate',
        { url: s.url, protocol, room, edits: v.params.edits!, timeoutMs },
        timeoutMs + 10_000,
      )
      await s.stop()

      s = await ctx.server({ dataDir })
      const load1 = await lg.call(
        'coldSync',
        { url: s.url, protocol, room, expectLength: pop.length, timeoutMs },
        timeoutMs + 10_000,
      )
      await s.stop()

      if (ctx.compact) {
        const err = await ctx.compact(dataDir)
        if (err) ctx.notes.push(`compaction: ${err}`)
      }
      s = await ctx.server({ dataDir })
      const load2 = await lg.call(
        'coldSync',
        { url: s.url, protocol, room, expectLength: pop.length, timeoutMs },
        timeoutMs + 10_000,
      )
      await s.stop()
      await lg.stop()
      out.push({
        load1: load1.ms,
        load2: load2.ms,
        writeRate: v.params.edits! / (pop.writeMs / 1000),
        docKB: pop.bytes / 1024,
      })
    }
    return out
  },
}
