// Preloaded into the server by scripts/measure-room.ts (`node --expose-gc --import this`): on
// SIGUSR2 writes one JSON line to $MEASURE_PROBE_FILE with memory after a full GC (when
// exposed), peak RSS (VmHWM) and the event-loop delay max since the previous signal.
import { readFileSync, writeFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.MEASURE_PROBE_FILE
if (file) {
  const eld = monitorEventLoopDelay({ resolution: 10 })
  eld.enable()
  process.on('SIGUSR2', () => {
    const gc = globalThis.gc
    if (process.env.MEASURE_PROBE_GC === '1' && typeof gc === 'function') gc()
    const mem = process.memoryUsage()
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    const sample = {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      peakRss: hwm ? Number(hwm[1]) * 1024 : 0,
      eldMaxMs: Math.max(0, eld.max / 1e6 - 10),
    }
    eld.reset()
    writeFileSync(file, `${JSON.stringify(sample)}\n`)
  })
}
