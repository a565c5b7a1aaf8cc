/**
 * CPU per log entry of the LevelDB write path (issue 16: batch marshalling was 6-8 % of the
 * main thread at 3,500 edits/s on 200 docs). Writes `--batches` batches of 350 entries (a
 * 100 ms flush at 3,500 edits/s) of 40-byte values over 200 docs, either through
 * LevelBackend.writeBatch (`--mode backend`) or the array form it replaced (`--mode array`:
 * one db.batch(ops) call). Reports process CPU per entry and the synchronous part (the
 * main thread's share) per entry.
 *
 *   taskset -c 1 npx tsx scripts/measure-store-batch.ts [--mode backend|array] [--batches 1000]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LevelBackend } from '../src/storage/level-backend.js'
import type { LogWrite } from '../src/storage/store-backend.js'

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'backend' }, batches: { type: 'string', default: '1000' } },
})
const PER_BATCH = 350
const batches = Number(values.batches)
const dir = await mkdtemp(join(tmpdir(), 'yws-batch-'))
const backend = new LevelBackend(dir)
await backend.open(false)
const bootId = (await backend.db.get('m\u0000boot'))!.toString()
let seq = 0
const value = new Uint8Array(40).fill(7)

function batch(): LogWrite[] {
  return Array.from({ length: PER_BATCH }, () => {
    seq += 1
    return { docName: `bench/doc-${(seq * 7) % 200}`, seq, value: value.slice() }
  })
}

function write(entries: LogWrite[]): Promise<void> {
  if (values.mode === 'backend') return backend.writeBatch(entries)
  return backend.db.batch(
    entries.map((entry) => ({
      type: 'put' as const,
      key: `d\u0000${entry.docName}\u0000l${Buffer.from(bootId).toString()}${entry.seq.toString(16).padStart(8, '0')}`,
      value: entry.value,
    })),
  )
}

for (let i = 0; i < 50; i++) await write(batch()) // warm-up
let syncMs = 0
const cpu = process.cpuUsage()
for (let i = 0; i < batches; i++) {
  const entries = batch()
  const started = performance.now()
  const written = write(entries)
  syncMs += performance.now() - started
  await written
}
const used = process.cpuUsage(cpu)
const n = PER_BATCH * batches
console.log(
  `${values.mode}: process CPU ${((used.user + used.system) / n).toFixed(2)} us/entry, synchronous part ${((syncMs * 1000) / n).toFixed(2)} us/entry (${n} entries)`,
)
await backend.close()
await rm(dir, { recursive: true, force: true })
