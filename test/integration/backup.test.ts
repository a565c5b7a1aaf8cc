/**
 * Online backup and migration: NDJSON export/import over HTTP and through the `export` /
 * `import` subcommands (run in-process on real servers, real LevelDB directories), and the
 * migration of a store written by the real y-leveldb package.
 */

import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { LeveldbPersistence } from 'y-leveldb'
import * as Y from 'yjs'
import type { CliCommand } from '../../src/cli/command.js'
import { exportCommand } from '../../src/cli/export-command.js'
import { importCommand } from '../../src/cli/import-command.js'
import { docJsonView } from '../../src/document/shared-types.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { newServerDoc } from '../../src/storage/server-doc.js'
import { readYLeveldb } from '../../src/storage/y-leveldb-reader.js'
import { connectSynced } from '../helpers/clients.js'
import { concurrentFormatting } from '../helpers/formatting.js'
import { httpRequest } from '../helpers/http.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

function server(overrides = {}) {
  return startServer({ adminToken: TEST_ADMIN_TOKEN, ...overrides })
}

/** A doc with every kind of shared type, different per `i`. */
function sampleDoc(i: number): Y.Doc {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, `text of doc ${i} `.repeat(1 + (i % 5)))
  doc.getText('t').format(0, 4, { bold: true })
  doc.getMap('meta').set('index', i)
  doc.getArray('list').push([i, `item ${i}`, { nested: [i] }])
  const paragraph = new Y.XmlElement('paragraph')
  const words = new Y.XmlText()
  paragraph.insert(0, [words])
  words.insert(0, `paragraph ${i}`)
  doc.getXmlFragment('prosemirror').insert(0, [paragraph])
  return doc
}

async function post(port: number, path: string, body: Uint8Array | string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: ADMIN, body })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function seed(target: TestServer, names: readonly string[]): Promise<Map<string, Y.Doc>> {
  const docs = new Map<string, Y.Doc>()
  for (const [i, name] of names.entries()) {
    const doc = sampleDoc(i)
    docs.set(name, doc)
    const answer = await post(
      target.port,
      `/admin/docs/${encodeURIComponent(name)}/updates`,
      Y.encodeStateAsUpdate(doc),
    )
    expect(answer.status).toBe(200)
  }
  return docs
}

async function stateOf(target: TestServer, name: string): Promise<Uint8Array | undefined> {
  const response = await fetch(`http://127.0.0.1:${target.port}/admin/docs/${encodeURIComponent(name)}`, {
    headers: ADMIN,
  })
  return response.status === 200 ? new Uint8Array(await response.arrayBuffer()) : undefined
}

/** Same content, and the same Yjs structs (state vector): "byte for byte in content". */
function expectSameDoc(actual: Uint8Array | undefined, expected: Y.Doc, name: string) {
  expect(actual, name).toBeDefined()
  const expectedState = Y.encodeStateAsUpdate(expected)
  expect(docJsonView(name, actual!)).toEqual(docJsonView(name, expectedState))
  expect(Y.encodeStateVectorFromUpdate(actual!)).toEqual(Y.encodeStateVector(expected))
}

async function runCommand(command: CliCommand, argv: string[], stdin?: string) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (chunk: Buffer) => out.push(chunk))
  stderr.on('data', (chunk: Buffer) => err.push(chunk))
  if (stdin !== undefined) throw new Error('stdin is not used by these tests; pass --in')
  const code = await command.run(argv, { stdout, stderr, env: {}, signal: new AbortController().signal })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

const NAMES = [
  'a',
  'b/c',
  'b/d',
  'ünï cödé',
  '😀 party',
  ...Array.from({ length: 25 }, (_, i) => `bulk/${i}`),
]

describe('export and import over HTTP', () => {
  it('export then import into a fresh instance reproduces every doc', async () => {
    const source = await server()
    const docs = await seed(source, NAMES)
    // One doc is open with an editor typing: export sees the live room.
    const editor = await connectSynced(source.url, 'a')
    editor.text.insert(0, 'live ')
    await waitFor(
      () => source.app.registry.get('a')?.doc.getText('t').toString().startsWith('live ') === true,
    )
    Y.applyUpdate(docs.get('a')!, Y.encodeStateAsUpdate(editor.doc))

    const exported = await httpRequest(source.port, '/admin/export', { headers: ADMIN })
    expect(exported.status).toBe(200)
    expect(exported.headers['content-type']).toContain('application/x-ndjson')
    const lines = exported.body.trimEnd().split('\n')
    expect(lines).toHaveLength(NAMES.length)
    expect(lines.map((line) => JSON.parse(line).name).sort()).toEqual([...NAMES].sort())

    const target = await server()
    const watcher = await connectSynced(target.url, 'b/c') // an editor on the target sees the import
    const imported = await post(target.port, '/admin/import', exported.body)
    expect(imported).toEqual({ status: 200, json: { imported: NAMES.length } })
    for (const name of NAMES) expectSameDoc(await stateOf(target, name), docs.get(name)!, name)
    await waitFor(() => watcher.text.toString() === docs.get('b/c')!.getText('t').toString(), {
      what: 'the open editor to see the imported doc',
    })
    const prefixed = await httpRequest(source.port, '/admin/export?prefix=b%2F', { headers: ADMIN })
    expect(
      prefixed.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).name),
    ).toEqual(['b/c', 'b/d'])
  })

  it('a malformed line stops the import with its number and what was imported before it', async () => {
    const source = await server()
    const docs = await seed(source, ['one', 'two', 'three'])
    const lines = (await httpRequest(source.port, '/admin/export', { headers: ADMIN })).body
      .trimEnd()
      .split('\n')
    const target = await server()
    const body = [lines[0], '', lines[1], '{"name":"bad","update":"***"}', lines[2]].join('\n')
    const answer = await post(target.port, '/admin/import', body)
    expect(answer.status).toBe(400)
    expect(answer.json).toMatchObject({ line: 4, imported: 2 })
    expect(String(answer.json.error)).toMatch(/line 4: update must be base64/)
    const first = JSON.parse(lines[0]!).name as string
    const second = JSON.parse(lines[1]!).name as string
    const third = JSON.parse(lines[2]!).name as string
    expectSameDoc(await stateOf(target, first), docs.get(first)!, first)
    expectSameDoc(await stateOf(target, second), docs.get(second)!, second)
    expect(await stateOf(target, third)).toBeUndefined()
    for (const bad of [
      'not json',
      '[]',
      '{"name":"x"}',
      `{"name":"","update":"AAA="}`,
      '{"name":"x","update":"AQIDBA=="}',
    ]) {
      const refused = await post(target.port, '/admin/import', `${bad}\n`)
      expect(refused.status, bad).toBe(400)
      expect(refused.json.line, bad).toBe(1)
    }
  })

  it('a bad line early in a large body still gets its 400, not a reset connection', async () => {
    const target = await server()
    const good = (await httpRequest((await seedOne()).port, '/admin/export', { headers: ADMIN })).body
    // About 8 MB after the bad line: far more than the socket buffers hold.
    const filler = `${'{"name":"later","update":"AAA="}'}\n`.repeat(250_000)
    const answer = await post(target.port, '/admin/import', `${good}{"broken"\n${filler}`)
    expect(answer.status).toBe(400)
    expect(answer.json).toMatchObject({ line: 2, imported: 1 })
    expect(await stateOf(target, 'later')).toBeUndefined()
  })
})

async function seedOne(): Promise<TestServer> {
  const source = await server()
  await seed(source, ['only'])
  return source
}

describe('export and import subcommands', () => {
  it('offline export of one directory, offline import into another, and through --url', async () => {
    const dataDir = await tempDir('yws-export-')
    const source = await server({ dataDir })
    const docs = await seed(source, NAMES.slice(0, 10))
    // A running server holds the directory: offline export refuses clearly.
    const locked = await runCommand(exportCommand, ['--data-dir', dataDir])
    expect(locked.code).toBe(3)
    expect(locked.stderr).toMatch(/in use by another process.*--url/)
    const online = await runCommand(exportCommand, [
      '--url',
      `http://127.0.0.1:${source.port}`,
      '--admin-token',
      TEST_ADMIN_TOKEN,
    ])
    expect(online.code).toBe(0)
    expect(online.stdout.trimEnd().split('\n')).toHaveLength(10)
    expect(online.stderr).toMatch(/^exported 10 docs, .* docs\/s/)
    await source.close()

    const file = join(await tempDir('yws-backup-'), 'backup.ndjson')
    const offline = await runCommand(exportCommand, ['--data-dir', dataDir, '--out', file])
    expect(offline.code).toBe(0)
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(10)

    const freshDir = await tempDir('yws-import-')
    const imported = await runCommand(importCommand, ['--data-dir', freshDir, '--in', file])
    expect(imported.code).toBe(0)
    expect(imported.stdout).toMatch(/^imported 10 docs/)
    const restored = await server({ dataDir: freshDir })
    for (const name of NAMES.slice(0, 10)) expectSameDoc(await stateOf(restored, name), docs.get(name)!, name)

    const viaUrl = await server()
    const pushed = await runCommand(importCommand, [
      '--url',
      `http://127.0.0.1:${viaUrl.port}`,
      '--admin-token',
      TEST_ADMIN_TOKEN,
      '--in',
      file,
    ])
    expect(pushed.code).toBe(0)
    for (const name of NAMES.slice(0, 10)) expectSameDoc(await stateOf(viaUrl, name), docs.get(name)!, name)

    const broken = join(await tempDir('yws-backup-'), 'broken.ndjson')
    await writeFile(broken, `${(await readFile(file, 'utf8')).split('\n')[0]}\n{oops\n`)
    const stopped = await runCommand(importCommand, [
      '--url',
      `http://127.0.0.1:${viaUrl.port}`,
      '--admin-token',
      TEST_ADMIN_TOKEN,
      '--in',
      broken,
    ])
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toMatch(/line 2: not valid JSON.*1 docs were imported before it/)
    const usage = await runCommand(importCommand, ['--in', file])
    expect(usage.code).toBe(2)
  })

  it('import --from-y-leveldb adds no formatting deletes of its own (7cadfb0): exactly what was stored', async () => {
    const sourceDir = await tempDir('yws-yleveldb-')
    const persistence = new LeveldbPersistence(sourceDir)
    const updates = concurrentFormatting()
    for (const update of updates) await persistence.storeUpdate('formatted', update)
    await persistence.destroy()
    const migrated = []
    for await (const doc of readYLeveldb(sourceDir)) migrated.push(doc)
    expect(migrated.map((doc) => doc.name)).toEqual(['formatted'])
    // The union of the stored updates, structs and deletes, and nothing else: a plain Y.Doc
    // merging them would add the deletes of Yjs's formatting cleanup (same state vector, since
    // deletes add no clock, but a bigger delete set).
    const union = newServerDoc({ gc: false })
    for (const update of updates) Y.applyUpdate(union, update)
    expect(Y.decodeUpdate(migrated[0]!.update).ds).toEqual(Y.decodeUpdate(Y.encodeStateAsUpdate(union)).ds)
    expect(Y.encodeStateVectorFromUpdate(migrated[0]!.update)).toEqual(Y.encodeStateVector(union))
    union.destroy()
  })

  it('import --from-y-leveldb migrates a store written by y-leveldb', async () => {
    const sourceDir = await tempDir('yws-yleveldb-')
    const persistence = new LeveldbPersistence(sourceDir)
    const expected = new Map<string, Y.Doc>()
    for (const [i, name] of ['plain', 'nested/doc', 'ünï'].entries()) {
      // Many small updates per doc, as the reference server stores them while clients type.
      const doc = new Y.Doc()
      doc.on('update', (update: Uint8Array) => void persistence.storeUpdate(name, update))
      for (let k = 0; k < 20; k++) doc.getText('t').insert(doc.getText('t').length, `${i}:${k} `)
      doc.getMap('meta').set('migrated', true)
      expected.set(name, doc)
    }
    await persistence.setMeta('plain', 'owner', 'someone') // metadata is not document content
    await waitFor(async () => (await persistence.getYDoc('ünï')).getMap('meta').get('migrated') === true)
    await persistence.destroy()

    const dataDir = await tempDir('yws-migrated-')
    const migrated = await runCommand(importCommand, ['--data-dir', dataDir, '--from-y-leveldb', sourceDir])
    expect(migrated.code, migrated.stderr).toBe(0)
    expect(migrated.stdout).toMatch(/^imported 3 docs/)
    const store = new LevelDocStore(dataDir, { readOnly: true })
    await store.open()
    const names = []
    for await (const stats of store.listDocs()) names.push(stats.docName)
    expect(names.sort()).toEqual(['nested/doc', 'plain', 'ünï'])
    for (const [name, doc] of expected) expectSameDoc((await store.load(name)).update, doc, name)
    await store.close()
  })
})
