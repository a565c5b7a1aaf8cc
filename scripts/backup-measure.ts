/**
 * Measures export/import throughput (docs/s, MB/s) on a synthetic store: N docs of typed
 * text with an edit history, standalone, real LevelDB in temp dirs, HTTP on loopback.
 * `npx tsx scripts/backup-measure.ts [--docs 1000]`. Prints one JSON object per step.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { createApp } from '../src/app.js'
import { exportCommand } from '../src/cli/export-command.js'
import { importCommand } from '../src/cli/import-command.js'
import { configFor } from '../src/config/config.js'
import { createLogger } from '../src/observability/logger.js'
import { LevelDocStore } from '../src/storage/level-doc-store.js'

const { values } = parseArgs({ options: { docs: { type: 'string', default: '1000' } } })
const count = Number(values.docs)
const token = 'measure-admin-token-0123456789'
const dirs: string[] = []
const dir = async (name: string) => {
  const path = await mkdtemp(join(tmpdir(), `yws-measure-${name}-`))
  dirs.push(path)
  return path
}

function report(step: string, docs: number, bytes: number, ms: number) {
  console.log(
    JSON.stringify({
      step,
      docs,
      MB: +(bytes / 1e6).toFixed(2),
      seconds: +(ms / 1000).toFixed(2),
      docsPerSecond: Math.round(docs / (ms / 1000)),
      MBPerSecond: +(bytes / 1e6 / (ms / 1000)).toFixed(1),
    }),
  )
}

async function start(dataDir: string) {
  const config = configFor({ host: '127.0.0.1', port: 0, dataDir, adminToken: token, logLevel: 'warn' })
  const app = createApp(config, { logger: createLogger('warn', 'measure') })
  const { port } = await app.start()
  return { app, url: `http://127.0.0.1:${port}` }
}

// Seed: each doc typed in 200 small updates (a realistic log), written offline.
const seedDir = await dir('seed')
const seed = new LevelDocStore(seedDir)
await seed.open()
for (let i = 0; i < count; i++) {
  const doc = new Y.Doc()
  doc.on('update', (update: Uint8Array) => seed.append(`docs/${i}`, update))
  const text = doc.getText('t')
  for (let k = 0; k < 200; k++) text.insert(text.length, `word${k} `)
  doc.getMap('meta').set('n', i)
}
await seed.close()

const source = await start(seedDir)
const headers = { authorization: `Bearer ${token}` }
let started = performance.now()
const exported = await (await fetch(`${source.url}/admin/export`, { headers })).text()
report(
  'http export',
  exported.trimEnd().split('\n').length,
  Buffer.byteLength(exported),
  performance.now() - started,
)

const target = await start(await dir('target'))
started = performance.now()
const answer = (await (
  await fetch(`${target.url}/admin/import`, { method: 'POST', headers, body: exported })
).json()) as { imported: number }
report('http import', answer.imported, Buffer.byteLength(exported), performance.now() - started)
await source.app.close()
await target.app.close()

const sink = () => {
  const stream = new PassThrough()
  stream.resume()
  return stream
}
const file = join(await dir('file'), 'backup.ndjson')
const context = { stdout: sink(), stderr: sink(), env: {}, signal: new AbortController().signal }
started = performance.now()
await exportCommand.run(['--data-dir', seedDir, '--out', file], context)
report('cli export --data-dir', count, Buffer.byteLength(exported), performance.now() - started)
started = performance.now()
await importCommand.run(['--data-dir', await dir('cli-target'), '--in', file], context)
report('cli import --data-dir', count, Buffer.byteLength(exported), performance.now() - started)

// The same store compacted (one snapshot per doc), as a store looks after `compact`.
const compacting = new LevelDocStore(seedDir)
await compacting.open()
for (let i = 0; i < count; i++) await compacting.compact(`docs/${i}`)
await compacting.close()
const compacted = await start(seedDir)
started = performance.now()
const again = await (await fetch(`${compacted.url}/admin/export`, { headers })).text()
report(
  'http export (compacted store)',
  again.trimEnd().split('\n').length,
  Buffer.byteLength(again),
  performance.now() - started,
)
await compacted.app.close()
started = performance.now()
await exportCommand.run(['--data-dir', seedDir, '--out', file], context)
report(
  'cli export --data-dir (compacted store)',
  count,
  Buffer.byteLength(again),
  performance.now() - started,
)

for (const path of dirs) await rm(path, { recursive: true, force: true })
