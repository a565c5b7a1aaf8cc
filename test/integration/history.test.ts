/**
 * Version history against real servers, real providers and real LevelDB: checkpoints on
 * schedule and on demand with the users who made them, HISTORY_KEEP, fetching, restore as
 * a forward change seen by every editor (also on another instance, through Redis),
 * compaction keeping versions, and refusals that change nothing.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectClient, connectSynced, waitForConvergence } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { signToken, TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

function historyServer(overrides: Parameters<typeof startServer>[0] = {}) {
  return startServer({ adminToken: TEST_ADMIN_TOKEN, historyIntervalMs: 0, ...overrides })
}

const versionsPath = (doc: string) => `/admin/docs/${encodeURIComponent(doc)}/versions`

async function listVersions(server: TestServer, doc: string, port = server.port) {
  const response = await httpRequest(port, versionsPath(doc), { headers: ADMIN })
  expect(response.status).toBe(200)
  return response.json() as { id: string; at: string; bytes: number; users: string[]; label?: string }[]
}

async function checkpoint(server: TestServer, doc: string, body: unknown = {}): Promise<string> {
  const response = await httpRequest(server.port, versionsPath(doc), { method: 'POST', headers: ADMIN, body })
  expect(response.status, response.body).toBe(201)
  return response.json().id
}

async function restore(server: TestServer, doc: string, id: string) {
  const response = await httpRequest(server.port, `${versionsPath(doc)}/${id}/restore`, {
    method: 'POST',
    headers: ADMIN,
  })
  expect(response.status, response.body).toBe(200)
  return response.json() as { restored: string; backup: string }
}

describe('checkpoints', () => {
  it('on demand: listed newest first with time, size, label and the JWT subs that edited', async () => {
    const server = await historyServer({ authSecret: TEST_SECRET })
    const ann = await connectSynced(server.url, 'notes', {
      params: { token: await signToken({ sub: 'ann' }) },
    })
    const bob = await connectSynced(server.url, 'notes', {
      params: { token: await signToken({ sub: 'bob' }) },
    })
    ann.text.insert(0, 'from ann ')
    bob.text.insert(0, 'from bob ')
    await waitForConvergence([ann.doc, bob.doc])
    await waitFor(() => server.app.registry.get('notes')?.doc.getText('t').length === 18)
    const first = await checkpoint(server, 'notes', { label: 'first draft' })
    ann.text.insert(0, 'more ')
    await waitFor(() => server.app.registry.get('notes')?.doc.getText('t').length === 23)
    const second = await checkpoint(server, 'notes')
    const versions = await listVersions(server, 'notes')
    expect(versions.map((v) => v.id)).toEqual([second, first])
    expect(versions[1]).toMatchObject({ users: ['ann', 'bob'], label: 'first draft' })
    expect(versions[0]!.users).toEqual(['ann'])
    expect(versions[0]!.label).toBeUndefined()
    expect(versions[0]!.bytes).toBeGreaterThan(versions[1]!.bytes)
    expect(Date.parse(versions[0]!.at)).toBeGreaterThanOrEqual(Date.parse(versions[1]!.at))
  })

  it('on schedule: HISTORY_INTERVAL_MS after the first change; untouched docs get none', async () => {
    const server = await historyServer({ historyIntervalMs: 300 })
    const client = await connectSynced(server.url, 'scheduled')
    await connectSynced(server.url, 'untouched')
    const before = Date.now()
    client.text.insert(0, 'typing')
    await waitFor(async () => (await listVersions(server, 'scheduled')).length === 1, {
      what: 'a checkpoint',
    })
    const [version] = await listVersions(server, 'scheduled')
    expect(Date.parse(version!.at) - before).toBeGreaterThanOrEqual(290)
    expect(version!.users).toEqual(['anonymous'])
    // No further change: no further checkpoint, however long we wait for the clock.
    const idleUntil = Date.now() + 700
    await waitFor(() => Date.now() > idleUntil, { timeoutMs: 2000 })
    expect(await listVersions(server, 'scheduled')).toHaveLength(1)
    expect(await listVersions(server, 'untouched')).toEqual([])
    client.text.insert(0, 'again ')
    await waitFor(async () => (await listVersions(server, 'scheduled')).length === 2, {
      what: 'a second one',
    })
  })

  it('HISTORY_KEEP drops the oldest unlabelled first and keeps labelled ones longer', async () => {
    const server = await historyServer({ historyKeep: 2 })
    const client = await connectSynced(server.url, 'kept')
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      client.text.insert(0, `${i}`)
      await waitFor(() => server.app.registry.get('kept')?.doc.getText('t').length === i + 1)
      ids.push(await checkpoint(server, 'kept', i === 0 ? { label: 'keep me' } : {}))
    }
    const versions = await listVersions(server, 'kept')
    expect(versions.map((v) => v.id)).toEqual([ids[4], ids[3], ids[0]])
  })

  it('of a doc in the big-doc worker: its state comes from the worker, not merged on the event loop', {
    timeout: 120_000,
  }, async () => {
    const server = await historyServer()
    const client = await connectSynced(server.url, 'big')
    client.text.insert(0, 'y'.repeat(2_000_000))
    await waitFor(() => server.app.registry.get('big')?.content.remote !== undefined, {
      timeoutMs: 60_000,
      what: 'the doc to move to the worker',
    })
    client.text.insert(0, 'head ')
    // Fanned out only once the worker accepted it: a second client seeing it means the worker has it.
    const other = await connectSynced(server.url, 'big')
    await waitFor(() => other.text.toString().startsWith('head '), { timeoutMs: 60_000, what: 'the edit' })
    const room = server.app.registry.get('big')!
    expect(room.content.remote).toBeDefined()
    // encodeStateAsUpdate of a doc in the worker merges base + accepted on the event loop.
    let mergedHere = 0
    const encode = room.encodeStateAsUpdate.bind(room)
    room.encodeStateAsUpdate = (stateVector?: Uint8Array) => {
      mergedHere += 1
      return encode(stateVector)
    }
    const id = await checkpoint(server, 'big')
    const binary = await fetch(`http://127.0.0.1:${server.port}${versionsPath('big')}/${id}`, {
      headers: ADMIN,
    })
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await binary.arrayBuffer()))
    expect([doc.getText('t').length, doc.getText('t').toString().slice(0, 6)]).toEqual([2_000_005, 'head y'])
    expect(mergedHere).toBe(0)
  })

  it('GET a version: the binary state and the JSON view of that moment', async () => {
    const server = await historyServer()
    const client = await connectSynced(server.url, 'a/b')
    client.text.insert(0, 'then')
    client.doc.getMap('m').set('k', 1)
    await waitFor(() => server.app.registry.get('a/b')?.doc.getMap('m').get('k') === 1)
    const id = await checkpoint(server, 'a/b')
    client.text.insert(4, ' and now')
    const binary = await fetch(`http://127.0.0.1:${server.port}${versionsPath('a/b')}/${id}`, {
      headers: ADMIN,
    })
    expect(binary.headers.get('content-type')).toBe('application/octet-stream')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await binary.arrayBuffer()))
    expect(doc.getText('t').toString()).toBe('then')
    const json = await httpRequest(server.port, `${versionsPath('a/b')}/${id}?format=json`, {
      headers: ADMIN,
    })
    expect(json.json()).toEqual({ name: 'a/b', content: { t: 'then', m: { k: 1 } } })
  })

  it('refusals change nothing: bad name, id, label, format; unknown doc or version', async () => {
    const server = await historyServer()
    const client = await connectSynced(server.url, 'doc')
    client.text.insert(0, 'x')
    await waitFor(() => server.app.registry.get('doc')?.doc.getText('t').length === 1)
    const id = await checkpoint(server, 'doc')
    const post = (path: string, body?: unknown) =>
      httpRequest(server.port, path, {
        method: 'POST',
        headers: ADMIN,
        ...(body !== undefined ? { body } : {}),
      })
    expect((await post(versionsPath('doc'), { label: 7 })).status).toBe(400)
    expect((await post(versionsPath('doc'), { label: 'a\nb' })).status).toBe(400)
    expect((await post(versionsPath('doc'), '{not json')).status).toBe(400)
    expect((await post(versionsPath('never-written'))).status).toBe(404)
    // `..` is just an id segment here (never a dot-segment): a malformed id.
    expect((await post(`${versionsPath('doc')}/../restore`)).status).toBe(400)
    expect((await post(`${versionsPath('doc')}/nope/restore`)).status).toBe(400)
    expect((await post(`${versionsPath('doc')}/000000000000000/restore`)).status).toBe(404)
    expect((await post(`${versionsPath('other')}/${id}/restore`)).status).toBe(404)
    const get = (path: string) => httpRequest(server.port, path, { headers: ADMIN })
    expect((await get(`${versionsPath('doc')}/${id}?format=xml`)).status).toBe(400)
    expect((await get(`${versionsPath('doc')}/000000000000000`)).status).toBe(404)
    expect((await get('/admin/docs/%00/versions')).status).toBe(400)
    expect((await httpRequest(server.port, versionsPath('doc'))).status).toBe(401)
    expect((await listVersions(server, 'doc')).map((v) => v.id)).toEqual([id])
    expect(client.text.toString()).toBe('x')
  })
  it('deleting a doc (DELETE /admin/docs/<doc>) deletes its history too', async () => {
    const server = await historyServer()
    const client = await connectSynced(server.url, 'doomed')
    client.text.insert(0, 'secret')
    await waitFor(() => server.app.registry.get('doomed')?.doc.getText('t').length === 6)
    const id = await checkpoint(server, 'doomed')
    const deleted = await httpRequest(server.port, '/admin/docs/doomed', { method: 'DELETE', headers: ADMIN })
    expect(deleted.status, deleted.body).toBe(200)
    // The doc and its versions are gone: the list is a 404 like GET of the doc (bugs brief 4).
    const listed = await httpRequest(server.port, versionsPath('doomed'), { headers: ADMIN })
    expect(listed.status).toBe(404)
    const fetched = await httpRequest(server.port, `${versionsPath('doomed')}/${id}`, { headers: ADMIN })
    expect(fetched.status).toBe(404)
  })
})

describe('restore', () => {
  it('every connected editor sees the old content as a new change, with a backup taken first; editing goes on', async () => {
    const server = await historyServer()
    const a = await connectSynced(server.url, 'story')
    const b = await connectSynced(server.url, 'story')
    // Declared on both sides: Y.Doc#toJSON (used to compare) only renders declared types.
    for (const client of [a, b]) client.doc.getArray('list')
    a.text.insert(0, 'Once upon a time')
    a.text.format(0, 4, { bold: true })
    a.doc.getArray('list').push(['one', 'two'])
    await waitForConvergence([a.doc, b.doc])
    await waitFor(() => server.app.registry.get('story')?.doc.getText('t').length === 16)
    const version = await checkpoint(server, 'story', { label: 'good' })
    const expected = { t: a.text.toDelta(), list: a.doc.getArray('list').toJSON() }
    b.text.delete(0, 5)
    b.text.insert(0, 'Vandalised: ')
    b.doc.getArray('list').delete(0, 2)
    await waitForConvergence([a.doc, b.doc])
    await waitFor(() => server.app.registry.get('story')?.doc.getArray('list').length === 0)
    const result = await restore(server, 'story', version)
    expect(result.restored).toBe(version)
    for (const client of [a, b]) {
      await waitFor(() => JSON.stringify(client.text.toDelta()) === JSON.stringify(expected.t), {
        what: 'the restored text',
      })
      expect(client.doc.getArray('list').toJSON()).toEqual(expected.list)
    }
    // The backup holds the vandalised state and is listed (labelled: kept longer).
    const versions = await listVersions(server, 'story')
    const backup = versions.find((v) => v.id === result.backup)!
    expect(backup.label).toBe(`before restore of ${version}`)
    const backupJson = await httpRequest(
      server.port,
      `${versionsPath('story')}/${result.backup}?format=json`,
      {
        headers: ADMIN,
      },
    )
    expect(backupJson.json().content.t).toBe('Vandalised: upon a time')
    // Nothing was rewritten: editing goes on, and an editor's undo takes back only its own
    // typing, never the restore (which is nobody's local change).
    const aUndo = new Y.UndoManager(a.text)
    a.text.insert(a.text.length, ' (a)')
    b.text.insert(0, '(b) ')
    await waitForConvergence([a.doc, b.doc])
    expect(a.text.toString()).toBe('(b) Once upon a time (a)')
    aUndo.undo()
    await waitForConvergence([a.doc, b.doc])
    expect(b.text.toString()).toBe('(b) Once upon a time')
  })

  it('restores a doc nobody has open (loaded for the restore), and the change is stored', async () => {
    const server = await historyServer()
    const writer = await connectSynced(server.url, 'cold')
    writer.text.insert(0, 'original')
    await waitFor(() => server.app.registry.get('cold')?.doc.getText('t').length === 8)
    const version = await checkpoint(server, 'cold')
    writer.text.delete(0, 8)
    writer.text.insert(0, 'replaced')
    await waitFor(() => server.app.registry.get('cold')?.doc.getText('t').toString() === 'replaced')
    writer.destroy()
    await waitFor(() => server.app.registry.get('cold') === undefined, { what: 'the room to unload' })
    await restore(server, 'cold', version)
    const reader = await connectSynced(server.url, 'cold')
    expect(reader.text.toString()).toBe('original')
  })

  it('compaction never removes what a kept version needs', async () => {
    const server = await historyServer()
    const client = await connectSynced(server.url, 'compacted')
    client.text.insert(0, 'text that will be deleted')
    await waitFor(() => server.app.registry.get('compacted')?.doc.getText('t').length === 25)
    const version = await checkpoint(server, 'compacted')
    client.text.delete(0, client.text.length)
    client.text.insert(0, 'new')
    await waitFor(() => server.app.registry.get('compacted')?.doc.getText('t').toString() === 'new')
    const compact = await httpRequest(server.port, '/admin/compact', {
      method: 'POST',
      headers: ADMIN,
      body: { doc: 'compacted' },
    })
    expect(compact.json().results[0].compacted).toBe(true)
    const json = await httpRequest(server.port, `${versionsPath('compacted')}/${version}?format=json`, {
      headers: ADMIN,
    })
    expect(json.json().content.t).toBe('text that will be deleted')
    await restore(server, 'compacted', version)
    await waitFor(() => client.text.toString() === 'text that will be deleted')
  })

  it('offline edits made before a restore merge after it as documented (typed text stays)', async () => {
    const server = await historyServer()
    const online = await connectSynced(server.url, 'offline')
    online.text.insert(0, 'alpha beta')
    await waitFor(() => server.app.registry.get('offline')?.doc.getText('t').length === 10)
    const version = await checkpoint(server, 'offline')
    online.text.delete(0, 6)
    online.text.insert(4, ' gamma')
    const traveller = await connectSynced(server.url, 'offline')
    await waitForConvergence([online.doc, traveller.doc])
    traveller.provider.disconnect()
    traveller.text.insert(0, 'NOTE ')
    traveller.text.insert(traveller.text.length, '!')
    await restore(server, 'offline', version)
    await waitFor(() => online.text.toString() === 'alpha beta')
    traveller.provider.connect()
    await waitForConvergence([online.doc, traveller.doc])
    // Typed offline text stays where it was typed; " gamma", restored away, does not return.
    expect(online.text.toString()).toBe('alpha NOTE beta!')
  })

  it('a restore on instance A reaches editors on instance B through Redis', async () => {
    const prefix = uniquePrefix()
    const cluster = { redisUrl: SHARED_REDIS_URL, redisPrefix: prefix }
    const a = await historyServer({ ...cluster, instanceId: 'hist-a' })
    const b = await historyServer({ ...cluster, instanceId: 'hist-b' })
    const onA = await connectSynced(a.url, 'shared')
    const onB = connectClient(b.url, 'shared')
    onA.text.insert(0, 'agreed wording')
    await waitFor(() => onB.text.toString() === 'agreed wording', { what: 'relay to B' })
    await waitFor(() => a.app.registry.get('shared')?.doc.getText('t').length === 14)
    const version = await checkpoint(a, 'shared')
    onB.text.delete(0, 7)
    onB.text.insert(0, 'disputed ')
    await waitFor(() => a.app.registry.get('shared')?.doc.getText('t').toString() === 'disputed wording')
    const started = performance.now()
    await restore(a, 'shared', version)
    await waitFor(() => onB.text.toString() === 'agreed wording', { what: 'the restore on B' })
    const seenOnB = performance.now() - started
    expect(onA.text.toString()).toBe('agreed wording')
    // Relayed updates do not start B's clock: B took no checkpoint of its own.
    expect(await listVersions(b, 'shared', b.port)).toEqual([])
    onB.text.insert(0, 'final: ')
    await waitForConvergence([onA.doc, onB.doc])
    console.info(`restore on A seen on B after ${seenOnB.toFixed(0)} ms`)
  })
})
