/**
 * Preloaded into every server process under test, ours and peers alike (`node --import
 * bench/.build/probe.mjs`, compiled by targets/target.ts; no tsx in the server), so all are
 * observed the same way without touching their code.
 *
 * On SIGUSR2 it writes one JSON line to $BENCH_PROBE_FILE: cumulative CPU time, memory,
 * and event-loop delay percentiles since the previous SIGUSR2 (timer lateness beyond the
 * 10 ms sampling interval), then resets the histogram.
 * The harness sends the signal at the start and end of each measured window.
 */
import { appendFileSync, existsSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

/**
 * BENCH_WINDOW_PROF_DIR=dir: a V8 CPU profile from process start (or the previous window's
 * end) to each measured window's end, written at that end. Unlike --cpu-prof (written on
 * exit) it survives the SIGKILL of the durable throughput steps, and it covers what precedes
 * the window: the reconnect storm, the first sync, the warm-up.
 */
const windowProfDir = process.env.BENCH_WINDOW_PROF_DIR
const profiler = windowProfDir ? new Session() : undefined
let profiles = 0
function startProfile(): void {
  if (!profiler) return
  profiler.post('Profiler.enable', () =>
    profiler.post('Profiler.setSamplingInterval', { interval: 500 }, () => profiler.post('Profiler.start')),
  )
}
function writeProfile(): void {
  if (!profiler || !windowProfDir) return
  profiler.post('Profiler.stop', (err, res) => {
    if (!err) {
      profiles += 1
      writeFileSync(
        join(windowProfDir, `window-${process.pid}-${profiles}.cpuprofile`),
        JSON.stringify(res.profile),
      )
    }
    startProfile()
  })
}
if (profiler) {
  profiler.connect()
  startProfile()
}

/**
 * BENCH_STALL_LOG=file: one line per main-thread stall (a 5 ms timer late by > 20 ms) and per
 * GC pause > 5 ms, as `<ms since process start> stall|gc-<kind> <ms>`, appended as they happen.
 * Ties a window's p99 spikes to what the loop was doing (read beside BENCH_WINDOW_PROF_DIR).
 */
const stallLog = process.env.BENCH_STALL_LOG
if (stallLog) {
  const lines: string[] = []
  const flushLines = (): void => {
    if (lines.length > 0) appendFileSync(stallLog, `${lines.splice(0).join('\n')}\n`)
  }
  const TICK_MS = 5
  let last = performance.now()
  setInterval(() => {
    const now = performance.now()
    const late = now - last - TICK_MS
    if (late > 20) lines.push(`${last.toFixed(0)} stall ${late.toFixed(1)} pid=${process.pid}`)
    last = now
  }, TICK_MS).unref()
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 16: 'minor' }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0
      if (e.duration > 5)
        lines.push(
          `${e.startTime.toFixed(0)} gc-${kinds[kind] ?? kind} ${e.duration.toFixed(1)} pid=${process.pid}`,
        )
    }
  }).observe({ entryTypes: ['gc'] })
  setInterval(flushLines, 1000).unref()
  process.on('exit', flushLines)
}

const file = process.env.BENCH_PROBE_FILE
if (file) {
  // The histogram records whole timer intervals, so subtract the resolution to get the delay.
  const RESOLUTION_MS = 10
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  eld.enable()
  let seq = 0
  process.on('SIGUSR2', () => {
    // Memory samples ask for a full GC first (marker file; servers run with --expose-gc), so
    // per-doc figures are live data, not garbage that happened to be uncollected.
    const gcMarker = `${file}.gc`
    const gc = (globalThis as { gc?: () => void }).gc
    if (existsSync(gcMarker)) {
      rmSync(gcMarker, { force: true })
      gc?.()
    }
    seq += 1
    const cpu = process.cpuUsage()
    const mem = process.memoryUsage()
    const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e3) / 1e3 - RESOLUTION_MS)
    const sample = {
      seq,
      cpuUs: cpu.user + cpu.system,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      eldP50: ms(eld.percentile(50)),
      eldP99: ms(eld.percentile(99)),
      eldMax: ms(eld.max),
    }
    eld.reset()
    writeFileSync(file, `${JSON.stringify(sample)}\n`)
    if (stallLog)
      appendFileSync(
        stallLog,
        `${performance.now().toFixed(0)} window-${seq % 2 === 1 ? 'start' : 'end'} pid=${process.pid}\n`,
      )
    // Samples come in pairs: window start (odd), window end (even).
    if (seq % 2 === 0) writeProfile()
  })
}
