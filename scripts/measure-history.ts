/**
 * Measures version history (figures for docs/history.md): for a document typed with N
 * keystroke-like edits, takes a checkpoint every N / checkpoints edits (the HISTORY_KEEP
 * worst case: every kept checkpoint present) into a real LevelDB, and reports one
 * checkpoint's size, the history's total and on-disk size, and restore latency (the forward
 * update computed and applied, plus the backup checkpoint written) for the oldest and a
 * middle version. Bounded: fixed edit counts, one temp dir removed at the end.
 *
 *   npx tsx scripts/measure-history.ts [--edits 2000,100000] [--checkpoints 100]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { CheckpointStore } from '../src/history/checkpoint-store.js'
import { restoreUpdate } from '../src/history/restore-update.js'
import { LevelDocStore } from '../src/storage/level-doc-store.js'
import { editLikeAUser, prng } from '../test/helpers/doc-store-fixtures.js'

const { values } = parseArgs({
  options: {
    edits: { type: 'string', default: '2000,100000' },
    checkpoints: { type: 'string', default: '100' },
  },
})
const editCounts = values.edits.split(',').map(Number)
const checkpoints = Number(values.checkpoints)
if (editCounts.some((n) => !Number.isSafeInteger(n) || n < checkpoints || n > 1_000_000) || checkpoints < 2) {
  throw new Error('--edits must be whole numbers between --checkpoints and 1000000; --checkpoints ≥ 2')
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

for (const edits of editCounts) {
  const dir = await mkdtemp(join(tmpdir(), 'yws-measure-history-'))
  const store = new LevelDocStore(dir, { compactLogBytes: 0 })
  await store.open()
  const history = new CheckpointStore(store.database)
  try {
    const random = prng(edits)
    const doc = new Y.Doc()
    const ids: string[] = []
    const perCheckpoint = Math.floor(edits / checkpoints)
    for (let i = 0; i < checkpoints; i++) {
      editLikeAUser(doc, perCheckpoint, random)
      // As the server stores it: the room's doc, gc'd, encoded once.
      const meta = await history.put('doc', Y.encodeStateAsUpdate(doc), { users: ['ann'] })
      ids.push(meta.id)
    }
    const stats = await history.stats('doc')
    const last = (await history.list('doc'))[0]!
    const disk = await dirBytes(dir)
    const current = Y.encodeStateAsUpdate(doc)
    const timings: string[] = []
    for (const [name, id] of [
      ['oldest', ids[0]!],
      ['middle', ids[Math.floor(ids.length / 2)]!],
    ] as const) {
      const version = (await history.state('doc', id))!
      const live = new Y.Doc()
      Y.applyUpdate(live, current)
      const started = performance.now()
      const forward = restoreUpdate(Y.encodeStateAsUpdate(live), version)
      await history.put('doc', Y.encodeStateAsUpdate(live), { users: [], label: 'backup' })
      Y.applyUpdate(live, forward)
      const ms = performance.now() - started
      const expected = new Y.Doc()
      Y.applyUpdate(expected, version)
      if (live.getText('t').toString() !== expected.getText('t').toString())
        throw new Error('restore mismatch')
      timings.push(`${name} ${ms.toFixed(1)} ms (update ${kB(forward.byteLength)})`)
    }
    console.log(
      `${edits} edits: text ${doc.getText('t').length} chars, state ${kB(current.byteLength)}; ` +
        `${stats.versions} checkpoints (one per ${perCheckpoint} edits): newest ${kB(last.bytes)}, ` +
        `total ${kB(stats.bytes)}, LevelDB dir ${kB(disk)}; restore: ${timings.join(', ')}`,
    )
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}
