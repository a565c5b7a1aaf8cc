/**
 * The operator surface: /admin/* behind ADMIN_TOKEN (never a user JWT), each action against
 * a real server and real clients, and ADMIN_PORT keeping admin off the user port.
 */
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest, rawUpgrade } from '../helpers/http.js'
import { metricValue } from '../helpers/prometheus.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

function adminServer(overrides = {}) {
  return startServer({ authSecret: TEST_SECRET, adminToken: TEST_ADMIN_TOKEN, ...overrides })
}

describe('an admin path no route matches', () => {
  it('a doc name with a raw slash gets a 404 that says to encode it (newcomer finding)', async () => {
    const server = await adminServer()
    const response = await httpRequest(server.port, '/admin/docs/team/notes', { headers: ADMIN })
    expect(response.status).toBe(404)
    expect(response.json().error).toBe(
      'no admin action GET /admin/docs/team/notes; a doc name is one path segment: encode / as %2F (/admin/docs/team%2Fnotes)',
    )
    const other = await httpRequest(server.port, '/admin/nothing', { headers: ADMIN })
    expect(other.json().error).toBe('no admin action GET /admin/nothing')
  })
})

describe('admin authentication', () => {
  it('is disabled (404) when ADMIN_TOKEN is unset, even with a bearer', async () => {
    const server = await startServer()
    const response = await httpRequest(server.port, '/admin/docs', { headers: ADMIN })
    expect(response.status).toBe(404)
  })

  it('401 without a token, with a wrong one, and with a valid user JWT', async () => {
    const server = await adminServer()
    const userJwt = await signToken({ docs: ['*'], sub: 'mallory' })
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-wrong-token' },
      { Authorization: TEST_ADMIN_TOKEN },
      { Authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
      { Authorization: `Bearer ${userJwt}` },
    ]
    for (const headers of attempts) {
      const response = await httpRequest(server.port, '/admin/docs', { headers })
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toContain('Bearer')
    }
    // The user JWT is not accepted anywhere in admin: not as cookie or query either.
    expect((await httpRequest(server.port, `/admin/docs?token=${userJwt}`)).status).toBe(401)
    expect(
      (await httpRequest(server.port, '/admin/docs', { headers: { Cookie: `token=${userJwt}` } })).status,
    ).toBe(401)
    expect(await metricValue(server.app.metrics.authFailures, { reason: 'admin-token' })).toBe(7)
    expect((await httpRequest(server.port, '/admin/docs', { headers: ADMIN })).status).toBe(200)
  })

  it('ADMIN_PORT serves admin only there: /admin on the main port is 404', async () => {
    const server = await adminServer({ adminPort: 0, adminHost: '127.0.0.1' })
    expect(server.adminPort).toBeGreaterThan(0)
    expect((await httpRequest(server.port, '/admin/docs', { headers: ADMIN })).status).toBe(404)
    expect((await httpRequest(server.adminPort!, '/admin/docs', { headers: ADMIN })).status).toBe(200)
    // And user traffic still works on the main port.
    expect((await httpRequest(server.port, '/healthz')).status).toBe(200)
  })

  it('answers malformed targets and bodies with 4xx, never 5xx', async () => {
    const server = await adminServer()
    const statuses: number[] = []
    for (const path of ['//evil.example/admin/docs', '/admin/%zz', '/admin/', '/admin/docs/../drain']) {
      statuses.push((await httpRequest(server.port, path, { headers: ADMIN })).status)
    }
    for (const body of [
      '{',
      '[]',
      '"doc"',
      JSON.stringify({ doc: 'x'.repeat(600) }),
      JSON.stringify({ doc: 7 }),
    ]) {
      statuses.push(
        (await httpRequest(server.port, '/admin/evict', { method: 'POST', headers: ADMIN, body })).status,
      )
    }
    const huge = JSON.stringify({ doc: 'a', pad: 'x'.repeat(200_000) })
    const tooBig = await httpRequest(server.port, '/admin/evict', {
      method: 'POST',
      headers: ADMIN,
      body: huge,
    })
    expect(tooBig.status).toBe(400)
    expect(tooBig.json().error).toMatch(/larger than/)
    statuses.push(
      (await httpRequest(server.port, '/admin/stored-docs?prefix=%01', { headers: ADMIN })).status,
    )
    expect(statuses.every((status) => status >= 400 && status < 500)).toBe(true)
    expect(await metricValue(server.app.metrics.adminRequests, { action: 'unknown' })).toBeGreaterThan(0)
  })
})

describe('admin actions', () => {
  it('lists open docs with client counts', async () => {
    const server = await adminServer({ authSecret: undefined })
    await connectSynced(server.url, 'one')
    await connectSynced(server.url, 'one')
    await connectSynced(server.url, 'two/ünï')
    const response = await httpRequest(server.port, '/admin/docs', { headers: ADMIN })
    expect(response.status).toBe(200)
    const docs = response.json().docs as { doc: string; connections: number }[]
    expect(docs.sort((a, b) => a.doc.localeCompare(b.doc))).toEqual([
      { doc: 'one', connections: 2 },
      { doc: 'two/ünï', connections: 1 },
    ])
  })

  it('flush makes queued updates durable, compact merges the log, stored-docs shows both', async () => {
    // A long flush interval: without the admin flush nothing would be on disk yet.
    const server = await adminServer({ authSecret: undefined, flushIntervalMs: 1000 })
    const client = await connectSynced(server.url, 'ops/doc')
    for (let i = 0; i < 5; i++) client.text.insert(0, `${i}`)
    await waitFor(() => server.app.registry.get('ops/doc')?.doc.getText('t').length === 5)
    const flushed = await httpRequest(server.port, '/admin/flush', { method: 'POST', headers: ADMIN })
    expect(flushed.status).toBe(200)
    const listed = await httpRequest(server.port, '/admin/stored-docs?prefix=ops%2F', { headers: ADMIN })
    const before = listed.json().docs as { docName: string; logEntries: number }[]
    expect(before).toHaveLength(1)
    expect(before[0]!.docName).toBe('ops/doc')
    expect(before[0]!.logEntries).toBeGreaterThan(1)

    const compacted = await httpRequest(server.port, '/admin/compact', {
      method: 'POST',
      headers: ADMIN,
      body: { doc: 'ops/doc' },
    })
    expect(compacted.status).toBe(200)
    expect(compacted.json().results).toHaveLength(1)
    const after = (await httpRequest(server.port, '/admin/stored-docs', { headers: ADMIN })).json().docs
    expect(after[0].logEntries).toBe(0)
    expect(after[0].snapshotBytes).toBeGreaterThan(0)
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await server.app.store.load('ops/doc')).update)
    expect(stored.getText('t').toString()).toBe(client.text.toString())
  })

  it('stored-docs lists names starting with astral characters', async () => {
    const server = await adminServer({ authSecret: undefined })
    const client = await connectSynced(server.url, '😀 party')
    client.text.insert(0, 'x')
    await waitFor(() => server.app.registry.get('😀 party')?.doc.getText('t').length === 1)
    await httpRequest(server.port, '/admin/flush', { method: 'POST', headers: ADMIN })
    const all = (await httpRequest(server.port, '/admin/stored-docs', { headers: ADMIN })).json().docs
    expect(all.map((d: { docName: string }) => d.docName)).toContain('😀 party')
  })

  it('evict closes the doc clients with 1000 and unloads it', async () => {
    const server = await adminServer({ authSecret: undefined })
    const a = await openSocket(`${server.url}/evict-me`)
    const b = await openSocket(`${server.url}/keep-me`)
    const response = await httpRequest(server.port, '/admin/evict', {
      method: 'POST',
      headers: ADMIN,
      body: { doc: 'evict-me' },
    })
    expect(response.json()).toEqual({ closed: 1 })
    expect(await a.closed).toBe(1000)
    expect(server.app.registry.get('evict-me')).toBeUndefined()
    expect(b.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('revoke by doc closes with 4003 and refuses the old tokens, not fresh ones', async () => {
    const server = await adminServer()
    const old = await signToken({ docs: ['*'], sub: 'ann', issuedAt: Math.floor(Date.now() / 1000) - 10 })
    const onDoc = await openSocket(`${server.url}/secret-doc?token=${old}`)
    const elsewhere = await openSocket(`${server.url}/other-doc?token=${old}`)
    const response = await httpRequest(server.port, '/admin/revoke', {
      method: 'POST',
      headers: ADMIN,
      body: { doc: 'secret-doc' },
    })
    expect(response.json()).toEqual({ closed: 1 })
    expect(await onDoc.closed).toBe(4003)
    expect(elsewhere.ws.readyState).toBe(WebSocket.OPEN)
    // The client's automatic reconnect with the same token is refused...
    expect((await rawUpgrade(server.port, `/secret-doc?token=${old}`)).status).toBe(401)
    expect((await rawUpgrade(server.port, `/other-doc?token=${old}`)).status).toBe(101)
    // ...a token issued after the revocation works.
    const fresh = await signToken({ docs: ['*'], sub: 'ann', issuedAt: Math.floor(Date.now() / 1000) + 2 })
    expect((await rawUpgrade(server.port, `/secret-doc?token=${fresh}`)).status).toBe(101)
    expect(await metricValue(server.app.metrics.authFailures, { reason: 'revoked-token' })).toBe(1)
  })

  it('revoke by sub closes every connection of that user only', async () => {
    const server = await adminServer()
    const issuedAt = Math.floor(Date.now() / 1000) - 10
    const alice = await signToken({ docs: ['*'], sub: 'alice', issuedAt })
    const bob = await signToken({ docs: ['*'], sub: 'bob', issuedAt })
    const a1 = await openSocket(`${server.url}/d1?token=${alice}`)
    const a2 = await openSocket(`${server.url}/d2?token=${alice}`)
    const b1 = await openSocket(`${server.url}/d1?token=${bob}`)
    const response = await httpRequest(server.port, '/admin/revoke', {
      method: 'POST',
      headers: ADMIN,
      body: { sub: 'alice' },
    })
    expect(response.json()).toEqual({ closed: 2 })
    expect(await a1.closed).toBe(4003)
    expect(await a2.closed).toBe(4003)
    expect(b1.ws.readyState).toBe(WebSocket.OPEN)
    expect((await rawUpgrade(server.port, `/d3?token=${alice}`)).status).toBe(401)
    expect((await rawUpgrade(server.port, `/d3?token=${bob}`)).status).toBe(101)
    for (const body of [{}, { doc: 'd1', sub: 'alice' }, { sub: '' }, { sub: 3 }]) {
      const bad = await httpRequest(server.port, '/admin/revoke', { method: 'POST', headers: ADMIN, body })
      expect(bad.status).toBe(400)
    }
  })

  it('drain stops accepting, closes clients with 1012 and reports not ready', async () => {
    const server = await adminServer({ authSecret: undefined })
    const client = await openSocket(`${server.url}/drained`)
    const response = await httpRequest(server.port, '/admin/drain', { method: 'POST', headers: ADMIN })
    expect(response.status).toBe(202)
    expect(await client.closed).toBe(1012)
    await server.close()
    await expect(rawUpgrade(server.port, '/drained')).rejects.toThrow()
  })
})
