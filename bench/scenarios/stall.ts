/**
 * Scenario 7: latency on small docs while a big doc is pushed, synced back, compacted and loaded
 * cold in the same server. Light generator by default: the big doc goes in as raw frames below
 * MAX_MESSAGE_BYTES from a second generator process, so the small-doc clock never waits for it.
 * --gen yjs runs the former version (stock provider pushes the big doc as one sync message).
 */
import type { LightGen } from '../light/handle.js'
import type { RunningServer } from '../targets/target.js'
import {
  type Ctx,
  type Measured,
  type Metrics,
  measureLight,
  measureTyping,
  needsYjsClient,
  type Scenario,
  sleep,
  type Variant,
} from './scenario.js'

const SMALL_DOCS = 10
const SMALL_RATE = 100
/** 1 MiB frames: far below the 8 MiB default MAX_MESSAGE_BYTES of ours and of stock clients. */
const MAX_MESSAGE_BYTES = 1024 * 1024
const CHUNK_CHARS = 4096
const BIG_CLIENT = 2_000_000_001

/** Small-doc latency rows of the online compaction phase: n/a for targets without one. */
const ONLINE_COMPACTION_KEYS = ['onlineCompactP99', 'onlineCompactMax', 'onlineCompactMs'] as const

/**
 * How long one big-doc phase may take before it counts as unfinished. Generous (the peers stall
 * 3.5-7.9 s at 50 MB and a push takes tens of seconds) but finite, so a target that cannot
 * finish a phase is reported as such instead of holding the run.
 */
function phaseTimeoutMs(mb: number): number {
  return mb >= 20 ? 240_000 : 90_000
}

/**
 * Worst case of one repetition, in seconds: five phases at their timeout (the online compaction
 * counts twice: an edit first, then the compaction) plus the slack each small-doc window keeps,
 * offline compaction (its own 120 s limit), two starts, a stop and the baseline.
 */
function repBudgetS(mb: number): number {
  return (5 * (phaseTimeoutMs(mb) + WINDOW_SLACK_MS)) / 1000 + 120 + 90
}

/** A small-doc window outlives its phase's timeout by this much, so it sees how the phase ends. */
const WINDOW_SLACK_MS = 15_000

export const stall: Scenario = {
  id: 'stall',
  title: 'Big-doc stall (small docs while a big doc is pushed, synced, compacted, loaded cold)',
  method: `${SMALL_DOCS} small docs x 3 editors type ${SMALL_RATE} edits/s in total (light generator). Baseline window; then one window per big-doc phase, each ending when the phase does: push (a second generator process sends the big doc as ${CHUNK_CHARS / 1024} KiB inserts at random positions in ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB frames, back to back as the socket takes them (no protocol ack exists), until a client that joined before has received all of it), sync (a fresh client joins and receives all of it), cold (the server is stopped with SIGTERM, ours compacted offline with scripts/compact.ts, restarted; a fresh client loads the doc), online compaction (ours only: another client adds one ${CHUNK_CHARS / 1024} KiB insert so the log has an entry, then the running server compacts the big doc through POST /admin/compact; the peers have no online compaction: n/a). Small-doc p99 and max per phase, server event-loop delay max, and each phase's duration. Each phase has a deadline (90 s; 240 s from 20 MB): a phase that does not finish is reported in the notes with the small-doc figures of its window, and the phases after it are not run. The floor has no storage: push only. --gen yjs: the former version (stock provider, one sync message; over 8 MiB it cannot push).`,
  metrics: [
    { key: 'baseP99', label: 'small docs p99, baseline', unit: 'ms', better: 'lower' },
    { key: 'pushP99', label: 'small docs p99 during push', unit: 'ms', better: 'lower' },
    { key: 'pushMax', label: 'small docs max during push', unit: 'ms', better: 'lower' },
    { key: 'syncP99', label: 'small docs p99 during sync to a fresh client', unit: 'ms', better: 'lower' },
    { key: 'syncMax', label: 'small docs max during sync', unit: 'ms', better: 'lower' },
    { key: 'coldP99', label: 'small docs p99 during cold load', unit: 'ms', better: 'lower' },
    { key: 'coldMax', label: 'small docs max during cold load', unit: 'ms', better: 'lower' },
    {
      key: 'onlineCompactP99',
      label: 'small docs p99 during online compaction (ours)',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'onlineCompactMax',
      label: 'small docs max during online compaction (ours)',
      unit: 'ms',
      better: 'lower',
    },
    { key: 'eldMax', label: 'server event-loop delay max (all phases)', unit: 'ms', better: 'lower' },
    { key: 'pushMs', label: 'big doc push until held by another client', unit: 'ms', better: 'lower' },
    { key: 'syncMs', label: 'big doc sync to a fresh client', unit: 'ms', better: 'lower' },
    { key: 'compactMs', label: 'offline compaction (ours)', unit: 'ms', better: 'lower' },
    { key: 'coldMs', label: 'big doc cold load to a fresh client', unit: 'ms', better: 'lower' },
    {
      key: 'onlineCompactMs',
      label: 'online compaction, admin API round trip (ours)',
      unit: 'ms',
      better: 'lower',
    },
  ],
  variants: (size) => [
    size === 'small' ? { label: '5 MB doc', params: { mb: 5 } } : { label: '50 MB doc', params: { mb: 50 } },
  ],
  skip: () => null,
  budgetS: (quick, v) => (quick ? 1 : 3) * repBudgetS(v.params.mb ?? 50),
  run: (ctx, v) => (ctx.gen('light') === 'light' ? stallLight(ctx, v) : stallYjs(ctx, v)),
}

/** A big-doc phase that did not finish by its deadline (or failed): later phases are skipped. */
class PhaseUnfinished extends Error {}

/** A phase's small-doc window, and the phase's result or why it did not finish. */
interface Phase<T> {
  m: Measured
  value?: T
  failed?: string
}

/**
 * Runs `op` inside a small-doc window that ends shortly after `op` does, or after `op` fails
 * (its deadline is `timeoutMs`): the window is measured either way.
 */
async function during<T>(
  small: LightGen,
  server: RunningServer,
  op: () => Promise<T>,
  timeoutMs: number,
): Promise<Phase<T>> {
  const window = measureLight(
    small,
    [server],
    { rate: SMALL_RATE, warmupMs: 300, durationMs: timeoutMs + WINDOW_SLACK_MS, drainMs: 5000 },
    timeoutMs + WINDOW_SLACK_MS + 30_000,
  )
  let result: { value: T } | { failed: string }
  try {
    await sleep(500)
    result = { value: await op() }
    await sleep(300)
  } catch (err) {
    result = { failed: (err as Error).message.split('\n')[0]! }
  }
  await small.stopRun()
  return { m: await window, ...result }
}

async function stallLight(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const out: Metrics[] = []
  if (ctx.target.floor !== true && !ctx.target.compactOnline)
    ctx.markNotApplicable(
      ONLINE_COMPACTION_KEYS,
      'no online compaction (nothing compacts a stored doc while the server serves it): its rows are n/a',
    )
  for (let rep = 0; rep < ctx.heavyReps; rep++) {
    const r: Metrics = {}
    out.push(r)
    try {
      await stallRep(ctx, v, rep, r)
    } catch (err) {
      if (!(err instanceof PhaseUnfinished)) throw err
      ctx.notes.push(`rep ${rep}: ${err.message}; the phases after it were not run`)
    }
  }
  return out
}

/** One repetition: fills `r` phase by phase; throws PhaseUnfinished at the first that does not end. */
async function stallRep(ctx: Ctx, v: Variant, rep: number, r: Metrics): Promise<void> {
  const protocol = ctx.target.protocol
  const timeoutMs = phaseTimeoutMs(v.params.mb!)
  const dataDir = ctx.tmpDir()
  let server = await ctx.server({ dataDir })
  const small = ctx.lightGen(1)
  const big = ctx.lightGen(1)
  try {
    const rooms = Array.from({ length: SMALL_DOCS }, (_, i) => ctx.room(`stall-small-${rep}-${i}`))
    const bigRoom = ctx.room(`stall-big-${rep}`)
    const openSmall = (url: string) =>
      small.open({ url, protocol, rooms, writersPerRoom: 3, readersPerRoom: 0, timeoutMs: 30_000 }, 60_000)
    await openSmall(server.url)
    const base = await measureLight(
      small,
      [server],
      { rate: SMALL_RATE, warmupMs: 500, durationMs: ctx.quick ? 1500 : 4000, drainMs: 2000 },
      60_000,
    )
    r.baseP99 = base.res.latency.p99
    r.eldMax = base.eldMax
    /** One big-doc phase in a small-doc window, recorded as `<key>P99` / `<key>Max`. */
    const phase = async <T>(name: string, key: string, op: () => Promise<T>): Promise<T> => {
      const p = await during(small, server, op, timeoutMs)
      r[`${key}P99`] = p.m.res.latency.p99
      r[`${key}Max`] = p.m.res.latency.max
      r.eldMax = Math.max(r.eldMax ?? 0, p.m.eldMax)
      if ('failed' in p) {
        const reach = p.m.res.expected > 0 ? (100 * p.m.res.delivered) / p.m.res.expected : Number.NaN
        throw new PhaseUnfinished(
          `${name} did not finish within ${timeoutMs / 1000} s (${p.failed}); its small-doc figures are of that window (small docs got ${reach.toFixed(1)} % of their edits)`,
        )
      }
      return p.value as T
    }

    const pushed = await phase('push', 'push', () =>
      big.bulkPush({
        url: server.url,
        protocol,
        room: bigRoom,
        chars: v.params.mb! * 1024 * 1024,
        chunkChars: CHUNK_CHARS,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        client: BIG_CLIENT,
        timeoutMs,
      }),
    )
    const clock = pushed.clock
    const syncBig = () =>
      big.bulkSync({ url: server.url, protocol, room: bigRoom, client: BIG_CLIENT, clock, timeoutMs })
    r.pushMs = pushed.heldMs
    ctx.notes.push(
      `rep ${rep}: big doc ${pushed.messages} messages, ${(pushed.bytes / 1e6).toFixed(1)} MB on the wire`,
    )
    if (ctx.target.floor === true) return

    r.syncMs = await phase('sync', 'sync', syncBig)

    await small.closeAll()
    await server.stop()
    if (ctx.compact) {
      const t0 = performance.now()
      const err = await ctx.compact(dataDir)
      if (err) ctx.notes.push(`rep ${rep}: ${err}`)
      else r.compactMs = performance.now() - t0
    }
    server = await ctx.server({ dataDir })
    await openSmall(server.url)
    r.coldMs = await phase('cold load', 'cold', syncBig)

    const compactOnline = ctx.target.compactOnline
    if (!compactOnline) return
    // The offline compaction left no log: one more edit (another client, so the big doc's clock
    // is unchanged) gives the compaction an entry to merge, as when a doc in use is compacted.
    try {
      await big.bulkPush({
        url: server.url,
        protocol,
        room: bigRoom,
        chars: CHUNK_CHARS,
        chunkChars: CHUNK_CHARS,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        client: BIG_CLIENT + 1,
        timeoutMs,
      })
    } catch (err) {
      throw new PhaseUnfinished(`the edit before online compaction failed: ${(err as Error).message}`)
    }
    const { done, ms } = await phase('online compaction', 'onlineCompact', async () => {
      const t0 = performance.now()
      const done = await compactOnline(server, bigRoom, timeoutMs)
      return { done, ms: performance.now() - t0 }
    })
    r.onlineCompactMs = ms
    ctx.notes.push(
      `rep ${rep}: online compaction ${done.compacted ? 'merged' : 'found nothing to merge:'} ${done.logEntriesMerged} log entries, ${(done.bytesBefore / 1e6).toFixed(1)} -> ${(done.bytesAfter / 1e6).toFixed(1)} MB stored, ${done.serverMs.toFixed(0)} ms in the server`,
    )
  } finally {
    // A phase that did not finish may leave a server or generator busy: stop them regardless.
    await small.closeAll().catch(() => undefined)
    await Promise.all([small.stop(), big.stop(), server.stop()])
  }
}

/** The former version: a stock provider pushes the big doc (one sync message) and a 2nd syncs it. */
async function stallYjs(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const why = needsYjsClient(ctx.target)
  if (why) throw new Error(why)
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
    const duringLoad = measureTyping(
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
    const m = await duringLoad
    if (loaded.pushMs + loaded.syncMs > windowMs)
      ctx.notes.push(`rep ${rep}: the big doc took longer than the measured window`)
    out.push({
      baseP99: base.res.latency.p99,
      pushP99: m.res.latency.p99,
      pushMax: m.res.latency.max,
      eldMax: m.eldMax,
      pushMs: loaded.pushMs,
      syncMs: loaded.syncMs,
    })
    await lg.call('closeAll', {}, 20_000)
    await Promise.all([lg.stop(), big.stop(), server.stop()])
  }
  return out
}
