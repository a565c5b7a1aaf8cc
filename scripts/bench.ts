/**
 * `npm run bench`: runs each selected scenario against our server and the peers, each as
 * its own process on loopback, and writes tables, JSON and SVG charts to bench-results/.
 * See docs/benchmarks.md for the method. Every child is killed on exit; every wait is bounded.
 */
import { existsSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { canPin, cpuCount, spawnTracked, stopProcess } from '../bench/proc.js'
import {
  markdownTables,
  type RunResult,
  type ScenarioRun,
  summarize,
  type TargetRun,
  writeOutputs,
} from '../bench/report.js'
import { SCENARIOS } from '../bench/scenarios/index.js'
import {
  Ctx,
  type GenMode,
  LOAD_CPU,
  type RunOptions,
  type Scenario,
  SERVER_CPU,
  type Size,
} from '../bench/scenarios/scenario.js'
import { hocuspocusTarget } from '../bench/targets/hocuspocus.js'
import { oursTarget } from '../bench/targets/ours.js'
import type { Target } from '../bench/targets/target.js'
import { wsRelayTarget } from '../bench/targets/ws-relay.js'
import { yWebsocketServerTarget } from '../bench/targets/y-websocket-server.js'

const HELP = `usage: npm run bench -- [options]
  --quick                small sizes, short windows, 2 repetitions (~8 min for all scenarios and 4 targets;
                         one scenario on one target: 1-6 min)
  --final                issue 16's "Done when" set, full windows: fan-out (10/200/500 readers), throughput
                         (50, 200, 1000 docs), stall (5 MB and 50 MB), memory (26 MB paste, 1000 docs);
                         2 repetitions, 1 of stall and memory (see docs/benchmarks.md for its duration).
                         --scenario, --target, --reps, --docs narrow or override it
  --scenario a,b         scenarios to run (default all): ${SCENARIOS.map((s) => s.id).join(', ')}
  --target a,b           targets (default all): ours, y-websocket-server, hocuspocus, ws-relay (the floor)
  --gen light|yjs        load generator for scenarios that can use either (default: light for
                         throughput and fan-out; the Yjs-applying one for end-to-end scenarios)
  --gen-procs N          light generator processes, all pinned to the load CPU (default 1)
  --docs a,b             doc counts for the throughput scenario (default 50 quick; 50,200,1000 full)
  --p99-limit MS         latency limit of the throughput ramp (default 100; raise it on a busy box)
  --size small|large|all sizes (default: small with --quick, all otherwise)
  --reps N               repetitions per measurement (default 2 quick, 3 full)
  --ours DIR             checkout of our server to benchmark (default: this repo)
  --out DIR              output directory (default bench-results)
  --no-pin               do not pin server and load generator to different CPUs
  --budget S             wall-clock limit per scenario x size x target, seconds
  -h, --help`

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    final: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    target: { type: 'string' },
    size: { type: 'string' },
    reps: { type: 'string' },
    ours: { type: 'string', default: '.' },
    out: { type: 'string', default: 'bench-results' },
    'no-pin': { type: 'boolean', default: false },
    budget: { type: 'string' },
    gen: { type: 'string' },
    'gen-procs': { type: 'string' },
    docs: { type: 'string' },
    'p99-limit': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (args.help) {
  console.log(HELP)
  process.exit(0)
}

const quick = args.quick === true
/**
 * `--final`: what one run must show for issue 16 (docs/benchmarks.md, "Durations"), in bounded
 * time: the full mode's windows and sizes for those four scenarios, fewer repetitions.
 */
const final = args.final === true
if (final && quick) throw new Error('--final and --quick exclude each other')
const FINAL_SCENARIOS = ['fanout', 'throughput', 'stall', 'memory']
const reps = args.reps ? Number(args.reps) : quick || final ? 2 : 3
const sizeArg = args.size ?? (quick ? 'small' : 'all')
if (!['small', 'large', 'all'].includes(sizeArg)) throw new Error(`--size: ${sizeArg}`)
const sizes: Size[] = sizeArg === 'all' ? ['small', 'large'] : [sizeArg as Size]
const budgetS = args.budget ? Number(args.budget) : quick ? 60 : 240
const pin = args['no-pin'] !== true
const oursDir = resolve(args.ours ?? '.')

if (args.gen !== undefined && args.gen !== 'light' && args.gen !== 'yjs')
  throw new Error(`--gen: ${args.gen}`)
const runOptions: RunOptions = {
  gen: args.gen as GenMode | undefined,
  genProcs: args['gen-procs'] ? Number(args['gen-procs']) : 1,
  docs: args.docs ? args.docs.split(',').map(Number) : undefined,
  p99LimitMs: args['p99-limit'] ? Number(args['p99-limit']) : 100,
  heavyReps: final && !args.reps ? 1 : undefined,
}
if (!(runOptions.genProcs >= 1)) throw new Error(`--gen-procs: ${args['gen-procs']}`)
if (runOptions.docs?.some((d) => !(d >= 1))) throw new Error(`--docs: ${args.docs}`)

const allTargets: Target[] = [
  oursTarget(oursDir),
  yWebsocketServerTarget(),
  hocuspocusTarget(),
  wsRelayTarget(),
]
const targetIds = args.target ? args.target.split(',') : allTargets.map((t) => t.id)
for (const id of targetIds) if (!allTargets.some((t) => t.id === id)) throw new Error(`unknown target ${id}`)
const targets = allTargets.filter((t) => targetIds.includes(t.id))
const scenarioIds = args.scenario
  ? args.scenario.split(',')
  : final
    ? FINAL_SCENARIOS
    : SCENARIOS.map((s) => s.id)
for (const id of scenarioIds)
  if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}`)
const scenarios = SCENARIOS.filter((s) => scenarioIds.includes(s.id))

/** Ours only: offline compaction between the two cold loads, if the checkout has the script. */
async function compactOurs(dataDir: string): Promise<string | null> {
  const script = join(oursDir, 'scripts', 'compact.ts')
  if (!existsSync(script))
    return 'scripts/compact.ts not present; load 2 reflects only what the server compacts itself'
  const p = spawnTracked(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), script, '--data-dir', dataDir, '--quiet'],
    { cwd: oursDir, env: { ...process.env, LOG_LEVEL: 'warn' } },
  )
  const timer = setTimeout(() => void stopProcess(p, 1000), 120_000)
  const code = await p.exited
  clearTimeout(timer)
  return code === 0 ? null : `compact exited ${code}: ${p.tail()}`
}

function machine(): RunResult['meta']['machine'] {
  return {
    nproc: cpuCount(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: release(),
    memGiB: Math.round(totalmem() / 2 ** 30),
  }
}

function withBudget<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: over the ${ms / 1000} s budget`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

interface Task {
  sc: ScenarioRun
  scenario: Scenario
  variantIndex: number
  target: Target
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const runId = `b${startedAt.getTime().toString(36)}`
  const result: RunResult = {
    meta: {
      startedAt: startedAt.toISOString(),
      durationS: 0,
      mode: quick ? 'quick' : final ? 'final' : 'full',
      argv: process.argv.slice(2),
      machine: machine(),
      pinning:
        pin && canPin()
          ? `taskset: servers on CPU ${SERVER_CPU}; load generators and Redis on CPU ${LOAD_CPU}`
          : 'not pinned (taskset unavailable, fewer than 2 CPUs, or --no-pin)',
      typingModel:
        'seeded synthetic typist: one edit per transaction at its own cursor; 86 % insert 1 char (space ~1/6, newline ~1/60), 10 % backspace, 4 % cursor jump; a Y.Map beacon (writer id -> seq) in the same transaction',
      targets: targets.map((t) => {
        const why = t.unavailable()
        return {
          id: t.id,
          protocol: t.protocol,
          version: t.version,
          ...(t.floor ? { floor: true } : {}),
          ...(why ? { skipped: why } : {}),
        }
      }),
    },
    scenarios: [],
  }

  const tasks: Task[] = []
  for (const scenario of scenarios) {
    const sc: ScenarioRun = {
      id: scenario.id,
      title: scenario.title,
      method: scenario.method,
      metrics: scenario.metrics,
      variants: [],
    }
    result.scenarios.push(sc)
    for (const size of sizes) {
      for (const v of scenario.variants(size, quick, runOptions)) {
        // --docs gives the same variants for every size: run each once.
        if (sc.variants.some((x) => x.label === v.label)) continue
        sc.variants.push({ label: v.label, params: v.params, byTarget: {} })
        for (const target of targets)
          tasks.push({ sc, scenario, variantIndex: sc.variants.length - 1, target })
      }
    }
  }

  for (const t of result.meta.targets) if (t.skipped) console.error(`skipping ${t.id}: ${t.skipped}`)
  const tty = process.stderr.isTTY === true
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} | {duration_formatted} elapsed | {task}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined
  bar?.start(tasks.length, 0, { task: 'starting' })

  let done = 0
  for (const task of tasks) {
    const variant = task.sc.variants[task.variantIndex]!
    const label = `${task.scenario.id} / ${variant.label} / ${task.target.id}`
    const t0 = Date.now()
    if (bar) bar.update(done, { task: label })
    else process.stderr.write(`[${done + 1}/${tasks.length}] ${label} ... `)
    const unavailable = task.target.unavailable() ?? task.scenario.skip(task.target)
    let run: TargetRun
    if (unavailable) {
      run = { status: 'skipped', reason: unavailable, reps: [], summary: {}, notes: [], wallS: 0 }
    } else {
      const compact = task.target.id === 'ours' ? compactOurs : undefined
      const ctx = new Ctx(task.target, quick, reps, `${runId}-${done}`, pin, compact, runOptions)
      try {
        const variantSpec = { label: variant.label, params: variant.params }
        const budget = args.budget
          ? budgetS
          : Math.max(budgetS, task.scenario.budgetS?.(quick, variantSpec) ?? 0)
        const repsOut = await withBudget(task.scenario.run(ctx, variantSpec), budget * 1000, label)
        run = { status: 'ok', reps: repsOut, summary: summarize(repsOut), notes: ctx.notes, wallS: 0 }
        if (ctx.notApplicable.size > 0) run.notApplicable = [...ctx.notApplicable]
      } catch (err) {
        const reason = (err as Error).message.split('\n').slice(0, 6).join(' | ')
        run = { status: 'error', reason, reps: [], summary: {}, notes: ctx.notes, wallS: 0 }
      } finally {
        await ctx.dispose()
      }
    }
    run.wallS = (Date.now() - t0) / 1000
    variant.byTarget[task.target.id] = run
    done += 1
    if (!bar) process.stderr.write(`${run.status} (${run.wallS.toFixed(1)} s)\n`)
  }
  bar?.update(done, { task: 'done' })
  bar?.stop()

  result.meta.durationS = (Date.now() - startedAt.getTime()) / 1000
  const files = writeOutputs(resolve(args.out ?? 'bench-results'), result)
  const header = result.meta.targets.map(
    (t) => `- ${t.id} ${t.version} (${t.protocol})${t.skipped ? ` — skipped: ${t.skipped}` : ''}`,
  )
  console.log(`# Benchmark results (${result.meta.mode}, ${result.meta.durationS.toFixed(0)} s)\n`)
  console.log(`${header.join('\n')}\n- ${result.meta.pinning}\n`)
  console.log(markdownTables(result))
  console.log(`wrote ${files.join(', ')}`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
