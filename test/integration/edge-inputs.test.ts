/**
 * Inputs at the edges of the contract, on a real server over real sockets: doc names whose
 * escapes do not decode (one decoder and one message for the WebSocket path and the admin
 * API), the Bearer scheme in any case (RFC 7235 §2.1), and empty updates that must not make
 * an unknown doc appear.
 */
import { describe, expect, it } from 'vitest'
import { NOT_PERCENT_ENCODING, NOT_PERCENT_ENCODING_QUERY } from '../../src/doc-name.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest, rawUpgrade } from '../helpers/http.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

async function post(
  port: number,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = ADMIN,
) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

describe('doc names: one decoder for the WebSocket path and the admin API', () => {
  it('escapes that are not UTF-8 get 400 with the same message on both, before any upgrade', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    for (const encoded of ['%C3%28', 'a%ED%A0%80b', '%E0%A4%A']) {
      const upgrade = await rawUpgrade(server.port, `/${encoded}`)
      expect(upgrade.status, encoded).toBe(400)
      expect(upgrade.body, encoded).toContain(NOT_PERCENT_ENCODING)
      const admin = await httpRequest(server.port, `/admin/docs/${encoded}`, { headers: ADMIN })
      expect(admin.status, encoded).toBe(400)
      expect(admin.json().error, encoded).toBe(NOT_PERCENT_ENCODING)
    }
    expect(server.app.registry.size).toBe(0)
  })

  it('admin query values follow the same rule: escapes that are not UTF-8 get 400, not U+FFFD', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    // URLSearchParams would decode each of these to a prefix holding U+FFFD and answer 200.
    for (const path of [
      '/admin/export?prefix=%C3%28',
      '/admin/stored-docs?prefix=a%ED%A0%80b',
      '/admin/stored-docs?after=%FF',
      '/admin/docs/kept?format=%E0%A4%A',
    ]) {
      const response = await httpRequest(server.port, path, { headers: ADMIN })
      expect(response.status, path).toBe(400)
      expect(response.json().error, path).toBe(NOT_PERCENT_ENCODING_QUERY)
    }
    // Well-formed escapes still decode: "é/" is a prefix like any other.
    const fine = await httpRequest(server.port, '/admin/export?prefix=%C3%A9%2F', { headers: ADMIN })
    expect(fine.status).toBe(200)
  })

  it('a stray % (stock y-websocket sends names unencoded) is the same doc on both', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    const editor = await connectSynced(server.url, 'a%zz')
    editor.text.insert(0, 'literal')
    await waitFor(() => server.app.registry.get('a%zz')?.doc.getText('t').length === 7)
    for (const path of ['/admin/docs/a%zz', '/admin/docs/a%25zz']) {
      const read = await httpRequest(server.port, `${path}?format=json`, { headers: ADMIN })
      expect(read.status, path).toBe(200)
      expect(read.json(), path).toEqual({ name: 'a%zz', content: { t: 'literal' } })
    }
  })
})

describe('the Bearer scheme is case-insensitive (RFC 7235 §2.1)', () => {
  it('for a user token on the upgrade and for ADMIN_TOKEN', async () => {
    const server = await startServer({ authSecret: TEST_SECRET, adminToken: TEST_ADMIN_TOKEN })
    const token = await signToken({ docs: ['*'] })
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect((await rawUpgrade(server.port, '/doc', { authorization: `${scheme} ${token}` })).status).toBe(
        101,
      )
      const admin = await httpRequest(server.port, '/admin/docs', {
        headers: { authorization: `${scheme} ${TEST_ADMIN_TOKEN}` },
      })
      expect(admin.status, scheme).toBe(200)
    }
    // Other schemes, a missing token and the wrong token are still refused.
    for (const authorization of [`Basic ${TEST_ADMIN_TOKEN}`, 'bearer', `bearer ${TEST_ADMIN_TOKEN}x`]) {
      expect((await httpRequest(server.port, '/admin/docs', { headers: { authorization } })).status).toBe(401)
    }
    expect((await rawUpgrade(server.port, '/doc', { authorization: `Basic ${token}` })).status).toBe(401)
  })
})

describe('an empty update to an unknown doc creates nothing', () => {
  // `00 00`, and one client group of zero structs with an empty delete set: both carry nothing.
  const EMPTY_UPDATES = [new Uint8Array([0, 0]), new Uint8Array([1, 0, 7, 0, 0])]

  it('POST /updates and an import line answer success; GET, /admin/docs and export agree it is absent', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    for (const [i, update] of EMPTY_UPDATES.entries()) {
      const posted = await post(server.port, `/admin/docs/empty${i}/updates`, update)
      expect(posted.status).toBe(200)
      expect(posted.json.applied).toBe(true)
    }
    const lines = EMPTY_UPDATES.map(
      (update, i) =>
        `${JSON.stringify({ name: `imported${i}`, update: Buffer.from(update).toString('base64') })}\n`,
    ).join('')
    const imported = await post(server.port, '/admin/import', lines, {
      ...ADMIN,
      'Content-Type': 'application/x-ndjson',
    })
    expect(imported).toEqual({ status: 200, json: { imported: 2 } })

    expect(server.app.registry.size).toBe(0)
    for (const name of ['empty0', 'empty1', 'imported0', 'imported1']) {
      expect((await httpRequest(server.port, `/admin/docs/${name}`, { headers: ADMIN })).status, name).toBe(
        404,
      )
    }
    expect((await httpRequest(server.port, '/admin/docs', { headers: ADMIN })).json().docs).toEqual([])
    expect((await httpRequest(server.port, '/admin/export', { headers: ADMIN })).body).toBe('')
    await server.app.store.flush()
    const stored = []
    for await (const stats of server.app.store.listDocs()) stored.push(stats.docName)
    expect(stored).toEqual([])
  })

  it('an empty update to a doc that exists changes nothing and still answers success', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    const editor = await connectSynced(server.url, 'kept')
    editor.text.insert(0, 'text')
    await waitFor(() => server.app.registry.get('kept')?.doc.getText('t').length === 4)
    expect((await post(server.port, '/admin/docs/kept/updates', new Uint8Array([0, 0]))).status).toBe(200)
    const read = await httpRequest(server.port, '/admin/docs/kept?format=json', { headers: ADMIN })
    expect(read.json()).toEqual({ name: 'kept', content: { t: 'text' } })
  })
})
