/**
 * `import --data-dir` into a stopped instance of a running cluster (restoring a backup into a
 * new or rebuilt instance, migrating a y-leveldb store): the import reaches no Redis, so the
 * docs used to stay on that instance's disk alone — the other instances answered 404 and
 * their clients saw empty docs until someone opened each doc on the imported instance
 * (newcomer finding, 2026-12-01). The import now marks every doc owed; the instance
 * publishes them once it runs with Redis (the mechanism of outage-unload.test.ts).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { owedMarks } from '../../src/storage/owed-marks.js'
import { connectSynced } from '../helpers/clients.js'
import { startRedis } from '../helpers/redis.js'
import { BIN, runCli } from '../helpers/run-cli.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

function backupLine(name: string, text: string): string {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return JSON.stringify({ name, update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') })
}

describe('import --data-dir into an instance of a running cluster', () => {
  it('the imported docs are seen on every instance once it starts', async () => {
    const redis = await startRedis()
    const options = { relayTuning: { generationCheckMs: 300 } }
    const base = { redisUrl: redis.url, redisPrefix: 'offimp' }
    const b = await startServer({ ...base, instanceId: 'offimp-b' }, options)
    const dataDir = await tempDir('yws-offimp-')
    const file = join(await tempDir('yws-offimp-in-'), 'backup.ndjson')
    await writeFile(
      file,
      `${backupLine('restored/one', 'from the backup')}\n${backupLine('restored/two', 'also')}\n`,
    )
    const run = await runCli(BIN, ['import', '--data-dir', dataDir, '--in', file])
    expect(run.code, run.stderr).toBe(0)

    const a = await startServer({ ...base, instanceId: 'offimp-a', dataDir }, options)
    const reader = await connectSynced(b.url, 'restored/one')
    await waitFor(() => reader.text.toString() === 'from the backup', {
      timeoutMs: 15_000,
      what: 'a client on B to see the doc imported into A',
    })
    await waitFor(
      async () => {
        const names: string[] = []
        for await (const name of owedMarks(a.app.store).names()) names.push(name)
        return names.length === 0
      },
      { what: "A's marks to be cleared once published" },
    )
  })
})
