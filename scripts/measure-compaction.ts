/**
 * Measures the compaction CLI on a generated store (figures for docs/operations.md):
 * builds N docs x M keystroke updates plus one big doc, times loading the big doc, runs
 * `npm run compact` on the directory as a child process, and times the load again.
 *
 *   npx tsx scripts/measure-compaction.ts [--docs 200] [--updates 1000] [--big 10000] [--dir D]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LevelDocStore } from '../src/storage/level-doc-store.js'
import { buildStore } from '../test/helpers/doc-store-fixtures.js'

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '200' },
    updates: { type: 'string', default: '1000' },
    big: { type: 'string', default: '10000' },
    dir: { type: 'string' },
  },
})
const docs = Number(values.docs)
const updates = Number(values.updates)
const bigUpdates = Number(values.big)
const dataDir = values.dir ?? (await mkdtemp(join(tmpdir(), 'yws-measure-')))

async function timeLoad(docName: string): Promise<{ ms: number; bytes: number; entries: number }> {
  const store = new LevelDocStore(dataDir, { readOnly: true, mergeThreads: 1 })
  await store.open()
  try {
    const started = performance.now()
    const loaded = await store.load(docName)
    return { ms: performance.now() - started, bytes: loaded.update.byteLength, entries: loaded.logEntries }
  } finally {
    await store.close()
  }
}

function runCompact(): Promise<{ code: number | null; stdout: string }> {
  const script = fileURLToPath(new URL('./compact.ts', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--data-dir', dataDir, '--json', '--quiet'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout })))
}

let started = performance.now()
await buildStore(dataDir, { docs, updatesPerDoc: updates })
await buildStore(dataDir, { docs: 1, updatesPerDoc: bigUpdates, names: ['big-doc'], seed: 7 })
process.stderr.write(
  `built ${docs} x ${updates} + 1 x ${bigUpdates} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
)

const before = await timeLoad('big-doc')
started = performance.now()
const run = await runCompact()
const wallMs = performance.now() - started
const after = await timeLoad('big-doc')
const summary = JSON.parse(run.stdout) as Record<string, number>
const figures = {
  store: { docs: docs + 1, updatesPerDoc: updates, bigDocUpdates: bigUpdates },
  exitCode: run.code,
  compaction: {
    docsCompacted: summary.docsCompacted,
    logEntriesMerged: summary.logEntriesMerged,
    logMB: +(summary.logBytesCompacted! / 1e6).toFixed(2),
    bytesBeforeMB: +(summary.bytesBefore! / 1e6).toFixed(2),
    bytesAfterMB: +(summary.bytesAfter! / 1e6).toFixed(2),
    runMs: summary.durationMs,
    wallMsIncludingStartup: Math.round(wallMs),
    throughputMBps: summary.throughputMBps,
    docsPerSecond: summary.docsPerSecond,
  },
  bigDocLoad: {
    beforeMs: Math.round(before.ms),
    beforeLogEntries: before.entries,
    afterMs: Math.round(after.ms),
    afterLogEntries: after.entries,
  },
}
process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`)
if (!values.dir) await rm(dataDir, { recursive: true, force: true })
