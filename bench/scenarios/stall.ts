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

export const stall: Scenario = {
  id: 'stall',
  title: 'Big-doc stall (small docs while a big doc is pushed, synced, compacted, loaded cold)',
  method: `${SMALL_DOCS} small docs x 3 editors type ${SMALL_RATE} edits/s in total (light generator). Baseline window; then one window per big-doc phase, each ending when the phase does: push (a second generator process sends the big doc as ${CHUNK_CHARS / 1024} KiB inserts at random positions in ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB frames, back to back as the socket takes them (no protocol ack exists), until a client that joined before has received all of it), sync (a fresh client joins and receives all of it), cold (the server is stopped with SIGTERM, ours compacted offline with scripts/compact.ts, restarted; a fresh client loads the doc). Small-doc p99 and max per phase, server event-loop delay max, and each phase's duration. The floor has no storage: push only. --gen yjs: the former version (stock provider, one sync message; over 8 MiB it cannot push).`,
  metrics: [
    { key: 'baseP99', label: 'small docs p99, baseline', unit: 'ms', better: 'lower' },
    { key: 'pushP99', label: 'small docs p99 during push', unit: 'ms', better: 'lower' },
    { key: 'pushMax', label: 'small docs max during push', unit: 'ms', better: 'lower' },
    { key: 'syncP99', label: 'small docs p99 during sync to a fresh client', unit: 'ms', better: 'lower' },
    { key: 'syncMax', label: 'small docs max during sync', unit: 'ms', better: 'lower' },
    { key: 'coldP99', label: 'small docs p99 during cold load', unit: 'ms', better: 'lower' },
    { key: 'coldMax', label: 'small docs max during cold load', unit: 'ms', better: 'lower' },
    { key: 'eldMax', label: 'server event-loop delay max (all phases)', unit: 'ms', better: 'lower' },
    { key: 'pushMs', label: 'big doc push until held by another client', unit: 'ms', better: 'lower' },
    { key: 'syncMs', label: 'big doc sync to a fresh client', unit: 'ms', better: 'lower' },
    { key: 'compactMs', label: 'offline compaction (ours)', unit: 'ms', better: 'lower' },
    { key: 'coldMs', label: 'big doc cold load to a fresh client', unit: 'ms', better: 'lower' },
  ],
  variants: (size) => [
    size === 'small' ? { label: '5 MB doc', params: { mb: 5 } } : { label: '50 MB doc', params: { mb: 50 } },
  ],
  skip: () => null,
  budgetS: (quick) => (quick ? 180 : 600),
  run: (ctx, v) => (ctx.gen('light') === 'light' ? stallLight(ctx, v) : stallYjs(ctx, v)),
}

/** Runs `op` inside a small-doc window that ends shortly after `op` does. */
async function during<T>(
  small: LightGen,
  server: RunningServer,
  op: () => Promise<T>,
  timeoutMs: number,
): Promise<{ m: Measured; value: T }> {
  const window = measureLight(
    small,
    [server],
    { rate: SMALL_RATE, warmupMs: 300, durationMs: timeoutMs, drainMs: 5000 },
    timeoutMs + 30_000,
  )
  try {
    await sleep(500)
    const value = await op()
    await sleep(300)
    await small.stopRun()
    return { m: await window, value }
  } catch (err) {
    await small.stopRun()
    await window.catch(() => undefined)
    throw err
  }
}

async function stallLight(ctx: Ctx, v: Variant): Promise<Metrics[]> {
  const out: Metrics[] = []
  const protocol = ctx.target.protocol
  const timeoutMs = v.params.mb! >= 20 ? 240_000 : 90_000
  for (let rep = 0; rep < ctx.heavyReps; rep++) {
    const dataDir = ctx.tmpDir()
    let server = await ctx.server({ dataDir })
    const small = ctx.lightGen(1)
    const big = ctx.lightGen(1)
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
    const push = await during(
      small,
      server,
      () =>
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
      timeoutMs,
    )
    const clock = push.value.clock
    const r: Metrics = {
      baseP99: base.res.latency.p99,
      pushP99: push.m.res.latency.p99,
      pushMax: push.m.res.latency.max,
      pushMs: push.value.heldMs,
      eldMax: Math.max(base.eldMax, push.m.eldMax),
    }
    if (ctx.target.floor !== true) {
      const sync = await during(
        small,
        server,
        () =>
          big.bulkSync({ url: server.url, protocol, room: bigRoom, client: BIG_CLIENT, clock, timeoutMs }),
        timeoutMs,
      )
      await small.closeAll()
      await server.stop()
      let compactMs: number | undefined
      if (ctx.compact) {
        const t0 = performance.now()
        const err = await ctx.compact(dataDir)
        if (err) ctx.notes.push(`rep ${rep}: ${err}`)
        else compactMs = performance.now() - t0
      }
      server = await ctx.server({ dataDir })
      await openSmall(server.url)
      const cold = await during(
        small,
        server,
        () =>
          big.bulkSync({ url: server.url, protocol, room: bigRoom, client: BIG_CLIENT, clock, timeoutMs }),
        timeoutMs,
      )
      Object.assign(r, {
        syncP99: sync.m.res.latency.p99,
        syncMax: sync.m.res.latency.max,
        syncMs: sync.value,
        coldP99: cold.m.res.latency.p99,
        coldMax: cold.m.res.latency.max,
        coldMs: cold.value,
        eldMax: Math.max(r.eldMax!, sync.m.eldMax, cold.m.eldMax),
        ...(compactMs !== undefined ? { compactMs } : {}),
      })
    }
    ctx.notes.push(
      `rep ${rep}: big doc ${push.value.messages} messages, ${(push.value.bytes / 1e6).toFixed(1)} MB on the wire`,
    )
    out.push(r)
    await small.closeAll()
    await Promise.all([small.stop(), big.stop(), server.stop()])
  }
  return out
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
