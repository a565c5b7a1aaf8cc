/**
 * What the harness needs from a server under test: start it as its own process on a
 * loopback port, sample it through the probe, stop it. One implementation per server.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { freePort, type Spawned, sleep, spawnTracked, stopProcess, waitFor, waitForPort } from '../proc.js'

/**
 * Wire protocol spoken by the server, which decides the client adapter. 'relay' is the floor:
 * y-websocket frames forwarded as they are, no sync, so only light clients can use it.
 */
export type Protocol = 'y-websocket' | 'hocuspocus' | 'relay'

export interface StartOptions {
  /** Persist to this directory (LevelDB). Omitted = in-memory where the server allows. */
  dataDir?: string | undefined
  /** Join a cluster over this Redis. Omitted = single instance. */
  redisUrl?: string | undefined
  /** Key prefix for peers that take one, so runs never share Redis keys. */
  redisPrefix?: string | undefined
  instanceId?: string | undefined
  /** CPU to pin the server to (taskset), when available. */
  cpu?: number | undefined
}

export interface ProbeSample {
  seq: number
  cpuUs: number
  rss: number
  heapUsed: number
  eldP50: number
  eldP99: number
  eldMax: number
}

export interface RunningServer {
  url: string
  pid: number
  /**
   * Asks the probe for a fresh sample (cumulative CPU, memory, event-loop delay since last
   * sample); `gc`: after a full garbage collection (memory figures only: it stalls the server).
   */
  sample(gc?: boolean): Promise<ProbeSample>
  stop(): Promise<void>
  /** SIGKILL: no shutdown hook runs, so only what the server already persisted survives. */
  kill(): Promise<void>
  tail(): string
}

/** What one online compaction of one doc did, as the server reports it. */
export interface OnlineCompaction {
  /** false: the server found nothing to merge (no log entries). */
  compacted: boolean
  logEntriesMerged: number
  /** Stored bytes of the doc (snapshot + log) before and after. */
  bytesBefore: number
  bytesAfter: number
  /** The server's own timing of the compaction (ms), without the HTTP round trip. */
  serverMs: number
}

export interface Target {
  id: string
  protocol: Protocol
  version: string
  supportsCluster: boolean
  /** The bare relay: a lower bound for latency, not a peer (reported as "ours ÷ floor"). */
  floor?: boolean
  /** Null when runnable, otherwise why this target is skipped. */
  unavailable(): string | null
  start(opts: StartOptions): Promise<RunningServer>
  /**
   * Compacts one stored doc while `server` runs and serves it (ours: POST /admin/compact).
   * Absent: the target has no online compaction. Rejects on an HTTP error or after `timeoutMs`.
   */
  compactOnline?(server: RunningServer, doc: string, timeoutMs: number): Promise<OnlineCompaction>
}

const PROBE = fileURLToPath(new URL('../probe.ts', import.meta.url))
/** Where the probe and the peers' wrappers are compiled to (gitignored; inside the repo so their
 * bare imports resolve from its node_modules). */
const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url))
const compiled = new Map<string, string>()

/**
 * `tsFile` compiled to one ESM file under bench/.build (its own relative imports bundled in,
 * packages left as imports), once per run; a `.js` file is returned as is.
 *
 * Why: server processes used to run under `--import tsx`, whose loader alone adds ~32 MB RSS
 * and its own CPU to every target — fair between targets, but it made absolute memory figures
 * (the 26 MB paste's peak ÷ doc size, the empty server) about the harness, not the server.
 */
export function compiledForNode(tsFile: string): string {
  if (!tsFile.endsWith('.ts')) return tsFile
  const done = compiled.get(tsFile)
  if (done) return done
  const outfile = join(BUILD_DIR, basename(tsFile).replace(/\.ts$/, '.mjs'))
  buildSync({
    entryPoints: [tsFile],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'error',
  })
  compiled.set(tsFile, outfile)
  return outfile
}

export function packageVersion(pkg: string): string {
  const path = fileURLToPath(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url))
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
}

let probeCounter = 0

/**
 * Runs `script` (a `.ts` file is compiled first, see `compiledForNode`) with the probe
 * preloaded, under plain node (no tsx), on a port we pick, and waits until the port accepts
 * connections.
 */
export async function launchNode(
  script: string,
  cwd: string,
  env: Record<string, string>,
  cpu: number | undefined,
): Promise<RunningServer> {
  const port = await freePort()
  probeCounter += 1
  const probeFile = `/tmp/bench-probe-${process.pid}-${probeCounter}.json`
  rmSync(probeFile, { force: true })
  // BENCH_CPU_PROF_DIR=dir: every server writes a V8 CPU profile there on exit (profiling).
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
    : []
  const proc: Spawned = spawnTracked(
    process.execPath,
    [...profile, '--expose-gc', '--import', compiledForNode(PROBE), compiledForNode(script)],
    {
      cwd,
      cpu,
      env: {
        // Every target gets the malloc our Dockerfile sets (huge pages for big buffers: first
        // touch of fresh memory costs ~5 ms per MiB on this VM), so a comparison measures the
        // servers, not a glibc setting only one of them had. GLIBC_TUNABLES= (empty) in the
        // harness's environment runs all of them without it.
        GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
        ...process.env,
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        BENCH_PROBE_FILE: probeFile,
        NODE_ENV: 'production',
      },
    },
  )
  const alive = (): boolean => proc.child.exitCode === null && proc.child.signalCode === null
  try {
    await waitForPort(port, 20_000, alive)
  } catch (err) {
    await stopProcess(proc, 1000)
    throw new Error(`${script} did not start: ${(err as Error).message}\n${proc.tail()}`)
  }
  const pid = proc.child.pid ?? -1
  let lastSeq = 0
  return {
    url: `ws://127.0.0.1:${port}`,
    pid,
    tail: proc.tail,
    async sample(gc = false) {
      // The probe is the node process itself (taskset execs node, so the pid is the same).
      const want = lastSeq + 1
      if (gc) writeFileSync(`${probeFile}.gc`, '')
      proc.child.kill('SIGUSR2')
      let parsed: ProbeSample | undefined
      await waitFor(
        'probe sample',
        () => {
          if (!existsSync(probeFile)) return false
          try {
            const s = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeSample
            if (s.seq >= want) parsed = s
          } catch {
            // The file is being rewritten; poll again.
          }
          return parsed !== undefined
        },
        30_000,
        5,
      )
      const s = parsed as ProbeSample
      lastSeq = s.seq
      return s
    },
    async stop() {
      await stopProcess(proc, 8000)
      rmSync(probeFile, { force: true })
      rmSync(`${probeFile}.gc`, { force: true })
      // Give the kernel a moment to release sockets before the next start.
      await sleep(50)
    },
    async kill() {
      if (alive()) {
        proc.child.kill('SIGKILL')
        await proc.exited
      }
      rmSync(probeFile, { force: true })
      await sleep(50)
    },
  }
}
