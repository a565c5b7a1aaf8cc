/**
 * Inputs at the edges of the contract, on a real server over real sockets: doc names whose
 * escapes do not decode (one decoder and one message for the WebSocket path and the admin
 * API) and the Bearer scheme in any case (RFC 7235 §2.1).
 */
import { describe, expect, it } from 'vitest'
import { NOT_PERCENT_ENCODING } from '../../src/doc-name.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest, rawUpgrade } from '../helpers/http.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

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
