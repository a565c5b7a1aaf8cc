/**
 * Child-process bookkeeping for the benchmark: every process the harness starts is
 * registered here and killed when the harness exits, however it exits.
 * Also owns CPU pinning (taskset) and free-port discovery.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, Socket } from 'node:net'

const children = new Set<ChildProcess>()

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  children.clear()
}

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll()
    process.exit(130)
  })
}

let tasksetChecked: boolean | undefined
/** True when `taskset` exists and the machine has at least 2 CPUs to split. */
export function canPin(): boolean {
  if (tasksetChecked === undefined) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' })
      tasksetChecked = cpuCount() >= 2
    } catch {
      // No taskset on this machine: run unpinned and say so in the report.
      tasksetChecked = false
    }
  }
  return tasksetChecked
}

export function cpuCount(): number {
  return readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('processor')).length
}

export interface Spawned {
  child: ChildProcess
  /** Last lines of stdout+stderr, for error messages. */
  tail(): string
  exited: Promise<number | null>
}

/** Spawns `cmd args` (pinned to `cpu` when possible) and tracks it for cleanup. */
export function spawnTracked(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { cpu?: number | undefined },
): Spawned {
  const { cpu, ...spawnOpts } = opts
  const [file, argv] =
    cpu !== undefined && canPin() ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts })
  children.add(child)
  const lines: string[] = []
  const keep = (buf: Buffer): void => {
    for (const line of buf.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      lines.push(line.slice(0, 400))
      if (lines.length > 40) lines.shift()
    }
  }
  // Always drain the pipes: a full pipe would block the child's writes (and event loop).
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child)
      resolve(code)
    })
    child.once('error', (err) => {
      lines.push(`spawn error: ${err.message}`)
      children.delete(child)
      resolve(null)
    })
  })
  return { child, tail: () => lines.join('\n'), exited }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
export async function stopProcess(p: Spawned, graceMs = 5000): Promise<void> {
  const { child } = p
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await p.exited
  clearTimeout(timer)
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds. */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  await waitFor(
    `port ${port}`,
    () => {
      if (!alive()) throw new Error('process exited before listening')
      return new Promise<boolean>((resolve) => {
        const sock = new Socket()
        const done = (ok: boolean): void => {
          sock.destroy()
          resolve(ok)
        }
        sock.once('connect', () => done(true))
        sock.once('error', () => done(false))
        sock.connect(port, '127.0.0.1')
      })
    },
    timeoutMs,
  )
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : Number.NaN
}

/** Peak resident set size of a process in bytes (VmHWM: high-water mark since it started). */
export function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : Number.NaN
}

const CLK_TCK = 100
/** CPU seconds (user+system) a process has used, from /proc/<pid>/stat (10 ms resolution). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the ")" that closes the command name; utime/stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}
