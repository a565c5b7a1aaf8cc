/**
 * Inputs of last session's newcomer run that were accepted or left traces (bugs brief):
 * an API error changes nothing (no room opened, nothing stored, nothing listed), and an
 * update with bytes after it is refused on every way in.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { httpRequest } from '../helpers/http.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

function standalone(overrides = {}) {
  return startServer({ adminToken: TEST_ADMIN_TOKEN, ...overrides })
}

async function postBytes(port: number, path: string, body: Uint8Array) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/octet-stream' },
    body,
  })
  return { status: response.status, text: await response.text() }
}

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** Nothing of `docName` anywhere on the instance: no room, nothing stored, not listed. */
async function expectUntouched(server: TestServer, docName: string): Promise<void> {
  expect(server.app.registry.get(docName)).toBeUndefined()
  await server.app.store.flush()
  const stored: string[] = []
  for await (const stats of server.app.store.listDocs()) stored.push(stats.docName)
  expect(stored).not.toContain(docName)
  const open = await httpRequest(server.port, '/admin/docs', { headers: ADMIN })
  expect(open.json().docs.map((d: { doc: string }) => d.doc)).not.toContain(docName)
  const read = await httpRequest(server.port, `/admin/docs/${encodeURIComponent(docName)}`, {
    headers: ADMIN,
  })
  expect(read.status).toBe(404)
}

describe('an update with trailing bytes is refused on every way in (bugs brief 3)', () => {
  it('POST /admin/docs/<doc>/updates: 400 with a sentence, nothing stored', async () => {
    const server = await standalone()
    const junk = await postBytes(
      server.port,
      '/admin/docs/junk/updates',
      Uint8Array.of(...textUpdate('hi'), 0),
    )
    expect(junk.status).toBe(400)
    expect(JSON.parse(junk.text).error).toBe(
      'not a valid Yjs update: 1 unexpected trailing byte after the delete set',
    )
    const aaaa = await postBytes(server.port, '/admin/docs/junk/updates', Buffer.from('AAAA', 'base64'))
    expect(aaaa.status).toBe(400)
    const random = await postBytes(server.port, '/admin/docs/junk/updates', Uint8Array.of(1, 1, 5, 0, 31, 9))
    expect(JSON.parse(random.text).error).toBe('not a valid Yjs update: unknown content type 31 (byte 4)')
    await expectUntouched(server, 'junk')
  })

  it('POST /admin/import: the line with "AAAA" stops the import, nothing of it stored', async () => {
    const server = await standalone()
    const response = await httpRequest(server.port, '/admin/import', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/x-ndjson' },
      body: `${JSON.stringify({ name: 'junk', update: 'AAAA' })}\n`,
    })
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({
      line: 1,
      imported: 0,
      error: 'line 1: update is not a valid Yjs update: 1 unexpected trailing byte after the delete set',
    })
    await expectUntouched(server, 'junk')
  })

  it('WebSocket: a sync update whose update has trailing bytes closes the socket, nothing stored', async () => {
    const server = await standalone()
    const { ws, closed } = await openSocket(`${server.url}/junk`)
    ws.send(encodeUpdate(Uint8Array.of(...textUpdate('hi'), 0)))
    expect(await closed).toBe(1002)
    await server.app.store.flush()
    const stored = await server.app.store.load('junk')
    expect(stored.logEntries + stored.snapshotBytes).toBe(0)
  })
})

describe('a request about an unknown doc changes nothing (bugs brief 2, 4)', () => {
  const VERSION = '0miwz3k2a1f0c9e'
  const calls: [string, string, unknown, number][] = [
    ['GET', '', undefined, 404],
    ['DELETE', '', undefined, 404],
    ['GET', '/versions', undefined, 404],
    ['POST', '/versions', {}, 404],
    ['POST', '/versions', { label: 'v1' }, 404],
    ['GET', `/versions/${VERSION}`, undefined, 404],
    ['GET', `/versions/${VERSION}?format=json`, undefined, 404],
    ['POST', `/versions/${VERSION}/restore`, undefined, 404],
    ['POST', '/versions/prune', {}, 404],
    ['POST', '/versions/prune', { keep: 1, dryRun: true }, 404],
    // Refused input on the same doc: 400 and nothing else.
    ['POST', '/versions', { label: '' }, 400],
    ['GET', '/versions/not-an-id', undefined, 400],
    ['POST', '/updates', 'not a yjs update', 400],
    ['PUT', '', undefined, 405],
    ['GET', '/updates', undefined, 405],
  ]

  it.each(calls)('%s /admin/docs/<unknown>%s', async (method, suffix, body, status) => {
    const server = await standalone()
    const response = await httpRequest(server.port, `/admin/docs/ghost${suffix}`, {
      method,
      headers: ADMIN,
      ...(body !== undefined ? { body } : {}),
    })
    expect(response.status).toBe(status)
    expect(response.json().error).toEqual(expect.any(String))
    // One wording for "no such doc" on every route (errors.ts noSuchDocMessage); a version
    // route names the version it did not find instead.
    if (status === 404 && !suffix.includes(VERSION)) {
      expect(response.json().error).toBe('no document named "ghost"')
    }
    await expectUntouched(server, 'ghost')
  })

  it('operator routes naming an unknown doc open nothing either', async () => {
    const server = await standalone()
    for (const path of ['/admin/compact', '/admin/evict', '/admin/revoke']) {
      const response = await httpRequest(server.port, path, {
        method: 'POST',
        headers: ADMIN,
        body: { doc: 'ghost' },
      })
      expect(response.status).toBe(200)
    }
    await expectUntouched(server, 'ghost')
  })

  it('GET versions of a doc that exists but has none is 200 []; the 404s name the doc', async () => {
    const server = await standalone()
    const posted = await postBytes(server.port, '/admin/docs/real/updates', textUpdate('hi'))
    expect(posted.status).toBe(200)
    const versions = await httpRequest(server.port, '/admin/docs/real/versions', { headers: ADMIN })
    expect(versions.status).toBe(200)
    expect(versions.json()).toEqual([])
    const ghost = await httpRequest(server.port, '/admin/docs/ghost/versions', { headers: ADMIN })
    expect(ghost.json()).toEqual({ error: 'no document named "ghost"' })
  })

  it('a wrong method on a known admin path is 405 with Allow, from the route table', async () => {
    const server = await standalone()
    const cases: [string, string, string][] = [
      ['POST', '/admin/docs', 'GET'],
      ['GET', '/admin/flush', 'POST'],
      ['PUT', '/admin/docs/a', 'GET, DELETE'],
      ['DELETE', '/admin/docs/a/versions', 'GET, POST'],
    ]
    for (const [method, path, allow] of cases) {
      const response = await httpRequest(server.port, path, { method, headers: ADMIN })
      expect(response.status).toBe(405)
      expect(response.headers.allow).toBe(allow)
    }
    expect((await httpRequest(server.port, '/admin/nothing', { method: 'GET', headers: ADMIN })).status).toBe(
      404,
    )
    // Without the token a wrong method is still just 401: the table is not shown to strangers.
    expect((await httpRequest(server.port, '/admin/flush', { method: 'GET' })).status).toBe(401)
  })
})

describe('admin JSON bodies are read exactly (bugs brief 5)', () => {
  it.each([
    [
      '/admin/compact',
      { doc: 'kept', dryrun: true },
      'unknown field "dryrun" (expected doc, prefix, gc, dryRun)',
    ],
    ['/admin/compact', { doc: 'kept', dryRun: 'true' }, 'dryRun must be a boolean'],
    ['/admin/compact', { doc: 'kept', gc: 'false' }, 'gc must be a boolean'],
    ['/admin/compact', { doc: 'kept', prefix: 'k' }, 'give doc or prefix, not both'],
    ['/admin/evict', { doc: 'kept', all: true }, 'unknown field "all" (expected doc)'],
    ['/admin/revoke', { doc: 'kept', user: 'ada' }, 'unknown field "user" (expected doc, sub)'],
    ['/admin/docs/kept/versions', { lable: 'v1' }, 'unknown field "lable" (expected label)'],
    [
      '/admin/docs/kept/versions/prune',
      { keep: 1, dry_run: true },
      'unknown field "dry_run" (expected keep, dryRun)',
    ],
  ])('POST %s %j is 400 and does nothing', async (path, body, error) => {
    const server = await standalone()
    expect((await postBytes(server.port, '/admin/docs/kept/updates', textUpdate('a'))).status).toBe(200)
    expect((await postBytes(server.port, '/admin/docs/kept/updates', textUpdate('b'))).status).toBe(200)
    const before = await server.app.store.load('kept')
    const response = await httpRequest(server.port, path, { method: 'POST', headers: ADMIN, body })
    expect(response.status).toBe(400)
    expect(response.json()).toEqual({ error })
    const after = await server.app.store.load('kept')
    expect(after.logEntries).toBe(before.logEntries)
    expect(after.snapshotBytes).toBe(before.snapshotBytes)
    const versions = await httpRequest(server.port, '/admin/docs/kept/versions', { headers: ADMIN })
    expect(versions.json()).toEqual([])
  })
})

describe('admin query parameters are read exactly (bugs brief 5)', () => {
  it.each([
    ['/admin/docs/kept?fromat=json', 'unknown query parameter "fromat" (expected format)'],
    ['/admin/docs/kept?format=json&format=binary', 'query parameter "format" is given more than once'],
    ['/admin/stored-docs?limt=1', 'unknown query parameter "limt" (expected prefix, after, limit)'],
    ['/admin/docs?verbose=1', 'unknown query parameter "verbose" (this route takes none)'],
    ['/admin/export?prefix=a&all=1', 'unknown query parameter "all" (expected prefix)'],
  ])('GET %s is 400', async (path, error) => {
    const server = await standalone()
    expect((await postBytes(server.port, '/admin/docs/kept/updates', textUpdate('a'))).status).toBe(200)
    const response = await httpRequest(server.port, path, { headers: ADMIN })
    expect(response.status).toBe(400)
    expect(response.json()).toEqual({ error })
  })

  it('declared parameters still work', async () => {
    const server = await standalone()
    expect((await postBytes(server.port, '/admin/docs/kept/updates', textUpdate('a'))).status).toBe(200)
    const json = await httpRequest(server.port, '/admin/docs/kept?format=json', { headers: ADMIN })
    expect(json.status).toBe(200)
    const page = await httpRequest(server.port, '/admin/stored-docs?prefix=k&limit=1', { headers: ADMIN })
    expect(page.json().docs.map((d: { docName: string }) => d.docName)).toEqual(['kept'])
  })
})
