/**
 * CPU per compaction of an open ~20 KB doc, from the log (read snapshot + log, merge on the
 * worker pool, verify twice) versus from the live document (encode the room's Y.Doc), issue 16.
 * For each doc: type until its state is ~`--kb` KB, compact (untimed) so a snapshot exists,
 * type `--entries` more single-keystroke updates (the default automatic threshold is 500),
 * flush, then time one compaction. Same docs (same seed) for both modes, one process, a warm
 * worker pool; CPU is the whole process (main thread + worker), main thread is event-loop
 * active time.
 *
 *   taskset -c 1 npx tsx scripts/measure-live-compaction.ts [--docs 20] [--kb 20] [--entries 500]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { LevelDocStore } from '../src/storage/level-doc-store.js'
import { liveStateOf } from '../src/storage/live-state.js'
import { WorkerPool } from '../src/workers/worker-pool.js'
import { editLikeAUser, prng } from '../test/helpers/doc-store-fixtures.js'

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '20' },
    kb: { type: 'string', default: '20' },
    entries: { type: 'string', default: '500' },
  },
})
const docs = Number(values.docs)
const targetBytes = Number(values.kb) * 1024
const entries = Number(values.entries)
const WARMUP = 3

interface Sample {
  cpuMs: number
  mainMs: number
  wallMs: number
  merged: number
  bytesAfter: number
}

async function run(mode: 'log' | 'live', pool: WorkerPool): Promise<Sample[]> {
  const dir = await mkdtemp(join(tmpdir(), 'yws-live-compaction-'))
  const store = new LevelDocStore(dir, { pool, compactLogBytes: 0, flushIntervalMs: 60_000 })
  await store.open()
  const open = new Map<string, { doc: Y.Doc }>()
  if (mode === 'live') store.useLiveState(liveStateOf((name) => open.get(name)))
  const random = prng(7)
  const samples: Sample[] = []
  try {
    for (let i = 0; i < WARMUP + docs; i++) {
      const name = `doc-${i}`
      const doc = new Y.Doc({ gc: true })
      open.set(name, { doc })
      doc.on('update', (update: Uint8Array) => store.append(name, update))
      while (Y.encodeStateAsUpdate(doc).byteLength < targetBytes) editLikeAUser(doc, 500, random)
      await store.compact(name)
      editLikeAUser(doc, entries, random)
      await store.flush()
      const cpu = process.cpuUsage()
      const elu = performance.eventLoopUtilization()
      const started = performance.now()
      const result = await store.compact(name)
      const wallMs = performance.now() - started
      const cpuUsed = process.cpuUsage(cpu)
      const mainMs = performance.eventLoopUtilization(elu).active
      if (i >= WARMUP) {
        samples.push({
          cpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
          mainMs,
          wallMs,
          merged: result.logEntriesMerged,
          bytesAfter: result.bytesAfter,
        })
      }
      // The compacted store must load exactly the live doc.
      const loaded = new Y.Doc()
      Y.applyUpdate(loaded, (await store.load(name)).update)
      if (loaded.getText('t').toString() !== doc.getText('t').toString())
        throw new Error(`${mode}: ${name} differs`)
      doc.destroy()
      open.delete(name)
    }
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
  return samples
}

function summary(mode: string, samples: Sample[]): string {
  const mean = (pick: (s: Sample) => number) => samples.reduce((sum, s) => sum + pick(s), 0) / samples.length
  const sorted = samples.map((s) => s.cpuMs).sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]!
  return `${mode.padEnd(5)} CPU/compaction mean ${mean((s) => s.cpuMs).toFixed(2)} ms (median ${median.toFixed(2)}), main thread ${mean((s) => s.mainMs).toFixed(2)} ms, wall ${mean((s) => s.wallMs).toFixed(2)} ms, ${mean((s) => s.merged).toFixed(0)} entries merged, snapshot ${(mean((s) => s.bytesAfter) / 1024).toFixed(1)} KB`
}

const pool = new WorkerPool(1)
try {
  const log = await run('log', pool)
  const live = await run('live', pool)
  console.log(`${docs} docs, ~${values.kb} KB state, ${entries} log entries each`)
  console.log(summary('log', log))
  console.log(summary('live', live))
} finally {
  await pool.close()
}
