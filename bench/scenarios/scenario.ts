/**
 * The contract every scenario implements, and the context the runner hands it.
 * A scenario returns one metrics record per repetition; the runner aggregates them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LightGen } from '../light/handle.js'
import type { LightRunParams } from '../light/protocol.js'
import { LoadGen } from '../load/handle.js'
import type { TypeParams, TypeResult } from '../load/protocol.js'
import { canPin, freePort, type Spawned, spawnTracked, stopProcess, waitForPort } from '../proc.js'
import type { RunningServer, StartOptions, Target } from '../targets/target.js'

export type Size = 'small' | 'large'

export interface MetricDef {
  key: string
  label: string
  unit: string
  better: 'lower' | 'higher'
}

export interface Variant {
  /** Short label shown in tables, e.g. "100 readers". */
  label: string
  params: Record<string, number>
}

export type Metrics = Record<string, number>

export interface Scenario {
  id: string
  title: string
  /** One paragraph for the report: what is measured and how. */
  method: string
  metrics: MetricDef[]
  variants(size: Size, quick: boolean, opts: RunOptions): Variant[]
  /** Null when the target can run it, otherwise why it is skipped. */
  skip(target: Target): string | null
  /** Wall-clock budget per variant x target in seconds, when the runner's default is too short. */
  budgetS?(quick: boolean, variant: Variant): number
  run(ctx: Ctx, variant: Variant): Promise<Metrics[]>
}

/** Which load generator a scenario uses where both are possible (`--gen`). */
export type GenMode = 'light' | 'yjs'

/** Options from the command line that scenarios read. */
export interface RunOptions {
  gen: GenMode | undefined
  /** Light generator processes (`--gen-procs`). */
  genProcs: number
  /** Overrides a scenario's doc counts (`--docs`), e.g. one throughput size. */
  docs: number[] | undefined
  /** Latency limit of the throughput ramp (`--p99-limit`, default 100 ms). */
  p99LimitMs: number
  /** Repetitions of the restart-heavy scenarios outside quick mode (`--final`: 1); default `reps`. */
  heavyReps?: number | undefined
}

/** Skip reason for scenarios that need a Yjs client (stock providers): the floor has no sync. */
export function needsYjsClient(target: Target): string | null {
  return target.protocol === 'relay'
    ? 'the bare relay floor has no sync; this scenario needs Yjs clients'
    : null
}

export const SERVER_CPU = 0
export const LOAD_CPU = 1

/**
 * Per-(scenario, variant, target) context. Everything started through it is stopped by
 * `dispose()`, which the runner always calls.
 */
export class Ctx {
  private readonly cleanups: Array<() => Promise<void>> = []
  notes: string[] = []
  /** Metric keys this target cannot have (shown as n/a, not as a missing figure). */
  readonly notApplicable = new Set<string>()

  constructor(
    readonly target: Target,
    readonly quick: boolean,
    readonly reps: number,
    readonly runId: string,
    readonly pin: boolean,
    readonly compact: ((dataDir: string) => Promise<string | null>) | undefined,
    readonly opts: RunOptions = { gen: undefined, genProcs: 1, docs: undefined, p99LimitMs: 100 },
  ) {}

  /** Marks `keys` as not applicable to this target, with a note saying why. */
  markNotApplicable(keys: readonly string[], why: string): void {
    for (const key of keys) this.notApplicable.add(key)
    this.notes.push(why)
  }

  /** The generator a scenario uses: `--gen` if given, else the scenario's default. */
  gen(defaultMode: GenMode): GenMode {
    return this.opts.gen ?? defaultMode
  }

  /** Repetitions for the slow scenarios (several server restarts each): one in quick mode. */
  get heavyReps(): number {
    return this.quick ? 1 : (this.opts.heavyReps ?? this.reps)
  }

  get serverCpu(): number | undefined {
    return this.pin && canPin() ? SERVER_CPU : undefined
  }
  get loadCpu(): number | undefined {
    return this.pin && canPin() ? LOAD_CPU : undefined
  }

  room(name: string): string {
    return `${this.runId}-${name}`
  }

  tmpDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'bench-data-'))
    this.cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  /** Starts the target; every scenario persists (fresh data dir) so all targets do the same work. */
  async server(opts: StartOptions = {}): Promise<RunningServer> {
    const s = await this.target.start({ dataDir: this.tmpDir(), cpu: this.serverCpu, ...opts })
    let stopped = false
    const stop = async (): Promise<void> => {
      if (stopped) return
      stopped = true
      await s.stop()
    }
    this.cleanups.push(stop)
    return { ...s, stop }
  }

  loadGen(): LoadGen {
    const lg = new LoadGen(this.loadCpu)
    this.cleanups.push(() => lg.stop())
    return lg
  }

  /** Light generator processes (`--gen-procs`, or `procs`), all on the load CPU. */
  lightGen(procs = this.opts.genProcs): LightGen {
    const lg = new LightGen(this.loadCpu, procs)
    this.cleanups.push(() => lg.stop())
    return lg
  }

  private redisUrl: string | undefined
  /** A Redis of our own for this context (fresh, no persistence), on the load-generator core. */
  async redis(): Promise<string> {
    if (this.redisUrl) return this.redisUrl
    const port = await freePort()
    const proc: Spawned = spawnTracked(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { cpu: this.loadCpu },
    )
    this.cleanups.push(() => stopProcess(proc, 2000))
    await waitForPort(port, 10_000, () => proc.child.exitCode === null)
    this.redisUrl = `redis://127.0.0.1:${port}`
    return this.redisUrl
  }

  async dispose(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn()
      } catch (err) {
        // Cleanup must go on for the rest; the process registry kills leftovers at exit.
        this.notes.push(`cleanup: ${(err as Error).message}`)
      }
    }
    this.cleanups.length = 0
  }
}

export interface Measured {
  res: TypeResult
  /** Server CPU seconds in the window, summed over all server processes. */
  serverCpuS: number
  eldP99: number
  eldMax: number
  rssMax: number
}

/** Anything that announces the start and end of its measured window. */
interface Windowed {
  onEvent: (event: 'measure-start' | 'measure-end') => void
}

/** Runs `window` and samples every server's probe when the generator opens and closes it. */
async function measureWindow<R extends TypeResult>(
  gen: Windowed,
  servers: RunningServer[],
  window: () => Promise<R>,
): Promise<Measured & { res: R }> {
  let startSamples: Promise<Awaited<ReturnType<RunningServer['sample']>>[]> | undefined
  let endSamples: typeof startSamples
  gen.onEvent = (ev) => {
    const s = Promise.all(servers.map((srv) => srv.sample()))
    if (ev === 'measure-start') startSamples = s
    else endSamples = s
  }
  try {
    const res = await window()
    if (!startSamples || !endSamples) throw new Error('probe samples missing')
    const [a, b] = await Promise.all([startSamples, endSamples])
    let serverCpuS = 0
    let eldP99 = 0
    let eldMax = 0
    let rssMax = 0
    for (let i = 0; i < servers.length; i++) {
      serverCpuS += (b[i]!.cpuUs - a[i]!.cpuUs) / 1e6
      eldP99 = Math.max(eldP99, b[i]!.eldP99)
      eldMax = Math.max(eldMax, b[i]!.eldMax)
      rssMax = Math.max(rssMax, b[i]!.rss)
    }
    return { res, serverCpuS, eldP99, eldMax, rssMax }
  } finally {
    gen.onEvent = () => {}
  }
}

/** A typing window of the Yjs generator. */
export function measureTyping(
  lg: LoadGen,
  servers: RunningServer[],
  params: TypeParams,
  timeoutMs: number,
): Promise<Measured> {
  return measureWindow(lg, servers, () => lg.call('type', params, timeoutMs))
}

/** A typing window of the light generator (all its processes). */
export function measureLight(
  gen: LightGen,
  servers: RunningServer[],
  params: LightRunParams,
  timeoutMs: number,
): ReturnType<typeof measureWindow<Awaited<ReturnType<LightGen['run']>>>> {
  return measureWindow(gen, servers, () => gen.run(params, timeoutMs))
}

/** Common latency metrics from a measured window. */
export function latencyMetrics(m: Measured): Metrics {
  const { res } = m
  return {
    p50: res.latency.p50,
    p99: res.latency.p99,
    max: res.latency.max,
    reach: res.expected > 0 ? (100 * res.delivered) / res.expected : Number.NaN,
    cpuPer1k: res.delivered > 0 ? (1000 * m.serverCpuS) / (res.delivered / 1000) : Number.NaN,
    serverCpu: (100 * m.serverCpuS) / res.windowS,
    loadgenCpu: (100 * res.loadgenCpuS) / res.windowS,
    eldP99: m.eldP99,
  }
}

export const LATENCY_METRICS: MetricDef[] = [
  { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower' },
  { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower' },
  { key: 'max', label: 'latency max', unit: 'ms', better: 'lower' },
  { key: 'reach', label: 'delivered / expected', unit: '%', better: 'higher' },
  { key: 'cpuPer1k', label: 'server CPU-ms per 1k delivered', unit: 'ms', better: 'lower' },
  { key: 'serverCpu', label: 'server CPU', unit: '%', better: 'lower' },
  { key: 'loadgenCpu', label: 'load generator CPU', unit: '%', better: 'lower' },
  { key: 'eldP99', label: 'server event-loop delay p99', unit: 'ms', better: 'lower' },
]

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
