/**
 * Scenario 4: memory. Light generator by default: peak RSS of a 26 MB paste (400 x 64 KB),
 * RSS / heap per loaded ~23 KB doc at 1,000 docs, per idle connection. --gen yjs: the former
 * version (Yjs clients, 2,000-edit docs).
 */
import type { LightGen } from '../light/handle.js'
import { peakRssBytes } from '../proc.js'
import type { Protocol, RunningServer } from '../targets/target.js'
import { type Ctx, type Metrics, needsYjsClient, type Scenario, sleep, type Variant } from './scenario.js'

const PASTE_CHUNKS = 400
const PASTE_CHUNK_CHARS = 64 * 1024
/** A loaded doc: 360 inserts of 64 characters at random places (~23 KB, 360 items). */
const DOC_INSERTS = 360
const DOC_CHUNK_CHARS = 64

const SEED_EDITS = 2000
const SETTLE_MS = 1000

export const memory: Scenario = {
  id: 'memory',
  title: 'Memory: big paste, loaded docs, idle connections',
  method: `Light generator. Paste: a fresh server, one client pastes ${PASTE_CHUNKS} x ${PASTE_CHUNK_CHARS / 1024} KB (one insert per message) into one doc until a second client holds it all, then a fresh client syncs it; peak RSS is the server's VmHWM (whole-life high-water mark), reported ÷ the doc's text size, and the growth over the RSS before the paste ÷ that size. Docs: D docs are seeded with ${DOC_INSERTS} inserts of ${DOC_CHUNK_CHARS} characters each (~23 KB), the server is restarted (SIGTERM, same data dir) so all are cold; then C idle clients join one empty doc (per connection = RSS delta ÷ C), leave, and one client per doc loads each doc (per doc = RSS delta ÷ D minus the per-connection figure). Read by the probe after a ${SETTLE_MS} ms settle and a full GC (servers run with --expose-gc; the probe collects only when a memory sample asks). RSS stays noisy (freed pages are not always returned): compare medians. The floor holds no documents and is skipped. --gen yjs: the former version (Yjs clients, ${SEED_EDITS}-edit docs).`,
  metrics: [
    { key: 'pastePeakX', label: 'peak RSS ÷ doc size, 26 MB paste', unit: '×', better: 'lower' },
    { key: 'pasteGrowthX', label: 'RSS growth ÷ doc size, 26 MB paste', unit: '×', better: 'lower' },
    { key: 'pastePeakMB', label: 'peak RSS, 26 MB paste', unit: 'MB', better: 'lower' },
    { key: 'pasteMs', label: 'paste held by a 2nd client', unit: 'ms', better: 'lower' },
    { key: 'rssPerDoc', label: 'RSS per loaded doc', unit: 'KB', better: 'lower' },
    { key: 'heapPerDoc', label: 'heap per loaded doc', unit: 'KB', better: 'lower' },
    { key: 'rssPerConn', label: 'RSS per idle connection', unit: 'KB', better: 'lower' },
    { key: 'heapPerConn', label: 'heap per idle connection', unit: 'KB', better: 'lower' },
    { key: 'rssIdle', label: 'RSS of an empty server', unit: 'MB', better: 'lower' },
  ],
  variants: (size, quick, opts) =>
    opts.gen === 'yjs'
      ? yjsMemory.variants(size, quick, opts)
      : // Large = the full run's case, so `--quick --size large` measures the issue-16 figure too;
        // the full run (both sizes) gets the same label twice and runs it once.
        size === 'small' && quick
        ? [{ label: '26 MB paste / 300 docs / 300 conns', params: { docs: 300, conns: 300 } }]
        : [{ label: '26 MB paste / 1000 docs / 1000 conns', params: { docs: 1000, conns: 1000 } }],
  skip: (t) => (t.floor ? 'holds no documents' : null),
  budgetS: (quick, v) => (quick && (v.params.docs ?? 0) < 1000 ? 240 : 600),
  run: (ctx, v) => (ctx.gen('light') === 'light' ? memoryLight(ctx, v) : yjsMemory.run(ctx, v)),
}

interface MemorySample {
  rss: number
  heapUsed: number
}

/** A memory sample after a settle and a full GC in the server. */
async function settled(server: { sample(gc?: boolean): Promise<MemorySample> }): Promise<MemorySample> {
  await sleep(SETTLE_MS)
  return server.sample(true)
}

/** Open parameters (light or Yjs generator) for `readersPerRoom` clients that only read, per room. */
function readersOnly(url: string, protocol: Protocol, rooms: string[], readersPerRoom: number) {
  return { url, protocol, rooms, writersPerRoom: 0, readersPerRoom, timeoutMs: 60_000 }
}

/**
 * What `open` adds to a server, per one of `count` clients or docs: KB of RSS and of heap
 * between a `sample` before and one after; `close` undoes it. `before` is the first sample.
 */
async function addedPer(
  sample: () => Promise<MemorySample>,
  count: number,
  open: () => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<{ rss: number; heap: number; before: MemorySample }> {
  const before = await sample()
  await open()
  const after = await sample()
  await close()
  return {
    rss: (after.rss - before.rss) / count / 1024,
    heap: (after.heapUsed - before.heapUsed) / count / 1024,
    before,
  }
}

async function memoryLight(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const out: Metrics[] = []
  const protocol = ctx.target.protocol
  for (let rep = 0; rep < ctx.heavyReps; rep++) {
    const gen: LightGen = ctx.lightGen(1)
    // Paste.
    const s1 = await ctx.server()
    const idle = await settled(s1)
    const room = ctx.room(`mem-paste-${rep}`)
    const pushed = await gen.bulkPush({
      url: s1.url,
      protocol,
      room,
      chars: PASTE_CHUNKS * PASTE_CHUNK_CHARS,
      chunkChars: PASTE_CHUNK_CHARS,
      maxMessageBytes: PASTE_CHUNK_CHARS + 100,
      client: 2_000_000_002,
      timeoutMs: 120_000,
    })
    await gen.bulkSync({
      url: s1.url,
      protocol,
      room,
      client: 2_000_000_002,
      clock: pushed.clock,
      timeoutMs: 120_000,
    })
    const peak = peakRssBytes(s1.pid)
    await s1.stop()
    const docBytes = pushed.clock
    // Docs, seeded then cold.
    const dataDir = ctx.tmpDir()
    let s2 = await ctx.server({ dataDir })
    const docs = v.params.docs!
    const rooms = Array.from({ length: docs }, (_, i) => ctx.room(`mem-doc-${rep}-${i}`))
    for (let i = 0; i < rooms.length; i += 25)
      await Promise.all(
        rooms.slice(i, i + 25).map((r, j) =>
          gen.bulkPush({
            url: s2.url,
            protocol,
            room: r,
            chars: DOC_INSERTS * DOC_CHUNK_CHARS,
            chunkChars: DOC_CHUNK_CHARS,
            maxMessageBytes: 1024 * 1024,
            client: 1_900_000_000 + i + j,
            timeoutMs: 60_000,
          }),
        ),
      )
    await s2.stop()
    s2 = await ctx.server({ dataDir })
    const sample = () => settled(s2)
    const conns = v.params.conns!
    const idleRoom = ctx.room(`mem-idle-${rep}`)
    const conn = await addedPer(
      sample,
      conns,
      () => gen.open(readersOnly(s2.url, protocol, [idleRoom], conns), 120_000),
      () => gen.closeAll(),
    )
    const doc = await addedPer(
      sample,
      docs,
      () => gen.open(readersOnly(s2.url, protocol, rooms, 1), 180_000),
      () => gen.closeAll(),
    )
    await Promise.all([s2.stop(), gen.stop()])
    out.push({
      pastePeakX: peak / docBytes,
      pasteGrowthX: (peak - idle.rss) / docBytes,
      pastePeakMB: peak / 1024 / 1024,
      pasteMs: pushed.heldMs,
      rssPerDoc: doc.rss - conn.rss,
      heapPerDoc: doc.heap - conn.heap,
      rssPerConn: conn.rss,
      heapPerConn: conn.heap,
      rssIdle: idle.rss / 1024 / 1024,
    })
  }
  return out
}

/** The former version with Yjs clients (`--gen yjs`). */
const yjsMemory: Pick<Scenario, 'variants' | 'run'> = {
  variants: (size) => [
    size === 'small'
      ? { label: '200 conns / 100 docs', params: { conns: 200, docs: 100 } }
      : { label: '1000 conns / 500 docs', params: { conns: 1000, docs: 500 } },
  ],
  async run(ctx: Ctx, v: Variant): Promise<Metrics[]> {
    const why = needsYjsClient(ctx.target)
    if (why) throw new Error(why)
    const out: Metrics[] = []
    const protocol = ctx.target.protocol
    for (let rep = 0; rep < ctx.heavyReps; rep++) {
      const conns = v.params.conns!
      const docs = v.params.docs!
      const lg = ctx.loadGen()
      /** This former version samples after the settle without a forced GC. */
      const after = (server: RunningServer) => async () => {
        await sleep(SETTLE_MS)
        return server.sample()
      }

      const s1 = await ctx.server()
      const conn = await addedPer(
        after(s1),
        conns,
        () => lg.call('open', readersOnly(s1.url, protocol, [ctx.room(`mem-idle-${rep}`)], conns), 120_000),
        () => lg.call('closeAll', {}, 20_000),
      )
      await s1.stop()

      const s2 = await ctx.server()
      const rooms = Array.from({ length: docs }, (_, i) => ctx.room(`mem-doc-${rep}-${i}`))
      const doc = await addedPer(
        after(s2),
        docs,
        () => lg.call('open', { ...readersOnly(s2.url, protocol, rooms, 1), seedEdits: SEED_EDITS }, 120_000),
        () => lg.call('closeAll', {}, 20_000),
      )
      await s2.stop()
      await lg.stop()

      out.push({
        rssPerConn: conn.rss,
        heapPerConn: conn.heap,
        rssPerDoc: doc.rss - conn.rss,
        heapPerDoc: doc.heap - conn.heap,
        rssIdle: conn.before.rss / 1024 / 1024,
      })
    }
    return out
  },
}
