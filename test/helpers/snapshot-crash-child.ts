/**
 * Child process of test/integration/snapshot-crash.test.ts: opens the LevelDocStore at
 * DATA_DIR, stores BIG_DOC_UPDATES (a doc of several snapshot chunks) unless the store
 * already holds it, then compacts it and, after its `stopAfterPuts`-th chunk put has been
 * written, prints `stopped` and waits to be SIGKILLed: a real process dying in the middle
 * of a big compaction, with LevelDB's files as such a death leaves them.
 */
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { bigDocUpdates } from './snapshot-crash-doc.js'

const dataDir = process.env.DATA_DIR!
const stopAfterPuts = Number(process.env.STOP_AFTER_PUTS)
const store = new LevelDocStore(dataDir, { compactLogBytes: 0 })
await store.open()
if ((await store.load('big')).logEntries === 0)
  for (const update of bigDocUpdates()) store.append('big', update)
await store.flush()
const db = store.database
const put = db.put.bind(db)
let puts = 0
db.put = (async (...args: Parameters<typeof put>) => {
  await put(...args)
  puts += 1
  if (puts === stopAfterPuts) {
    process.stdout.write('stopped\n')
    await new Promise(() => undefined) // until the parent's SIGKILL
  }
}) as typeof db.put
await store.compact('big')
process.stdout.write('compacted\n')
await store.close()
