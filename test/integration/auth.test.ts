/**
 * Every way a token can be presented, refused or honoured at the upgrade, and what a grant
 * means afterwards (read mode, expiry). Real server, real sockets, real providers.
 */
import { generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { NullRelay } from '../../src/relay/null-relay.js'
import type { Relay, RelaySink, RoomRelay } from '../../src/relay/relay.js'
import { connectClient, connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { metricValue } from '../helpers/prometheus.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_SECRET, unsignedToken } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const authServer = (overrides = {}) => startServer({ authSecret: TEST_SECRET, ...overrides })

/** Opens a raw ws client and resolves once it is open (or rejects with the HTTP status). */
function openSocket(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}) {
  const ws = new WebSocket(url, options.protocols ?? [], options.headers ? { headers: options.headers } : {})
  return new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  }).finally(() => undefined)
}

describe('refusals at the upgrade', () => {
  it('401 without a token, and the refusal is counted', async () => {
    const server = await authServer()
    const response = await rawUpgrade(server.port, '/doc')
    expect(response.status).toBe(401)
    expect(await metricValue(server.app.metrics.authFailures, { reason: 'missing-token' })).toBe(1)
    expect(server.app.connectionCount).toBe(0)
  })

  it.each([
    ['bad signature', () => signToken({ secret: 'another-secret-that-is-also-32-bytes-long' })],
    ['alg none', async () => unsignedToken({ docs: ['*'], exp: Math.floor(Date.now() / 1000) + 60 })],
    ['HS512 with the right secret', () => signToken({ alg: 'HS512' })],
    [
      'RS256',
      async () => {
        const { privateKey } = await generateKeyPair('RS256')
        return new SignJWT({ docs: ['*'] })
          .setProtectedHeader({ alg: 'RS256' })
          .setExpirationTime('1h')
          .sign(privateKey)
      },
    ],
    ['an expired token', () => signToken({ expiresIn: -10 })],
    ['a token without exp', () => signToken({ expiresIn: null })],
    ['garbage', async () => 'not.a.jwt'],
  ])('401 for %s', async (_what, makeToken) => {
    const server = await authServer()
    const token = await makeToken()
    const response = await rawUpgrade(server.port, `/doc?token=${encodeURIComponent(token)}`)
    expect(response.status).toBe(401)
    expect(server.app.connectionCount).toBe(0)
  })

  it('403 for a valid token that does not grant this doc', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['other'] })
    expect((await rawUpgrade(server.port, `/doc?token=${token}`)).status).toBe(403)
    expect((await rawUpgrade(server.port, `/other?token=${token}`)).status).toBe(101)
  })

  it('403 for a token with a malformed docs or mode claim', async () => {
    const server = await authServer()
    for (const claims of [{ docs: 'doc' }, { docs: [1] }, { docs: ['doc'], mode: 'admin' }]) {
      const token = await signToken(claims)
      expect((await rawUpgrade(server.port, `/doc?token=${token}`)).status).toBe(403)
    }
  })

  it('prefix patterns grant exactly the docs under the prefix', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['team/*'] })
    const status = async (doc: string) => (await rawUpgrade(server.port, `/${doc}?token=${token}`)).status
    expect(await status('team/a')).toBe(101)
    expect(await status('team/deep/b')).toBe(101)
    expect(await status('team')).toBe(403)
    expect(await status('teamx/a')).toBe(403)
    expect(await status('other/team/a')).toBe(403)
  })

  it('`*` grants every doc', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['*'] })
    for (const doc of ['a', 'b/c', encodeURIComponent('ünï cödé ✓')]) {
      expect((await rawUpgrade(server.port, `/${doc}?token=${token}`)).status).toBe(101)
    }
  })
})

describe('token carriers', () => {
  it('?token= (the y-websocket params convention) with a stock provider', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['q'] })
    const client = await connectSynced(server.url, 'q', { params: { token } })
    expect(client.provider.wsconnected).toBe(true)
  })

  it('Authorization: Bearer', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['h'] })
    const ws = await openSocket(`${server.url}/h`, { headers: { Authorization: `Bearer ${token}` } })
    ws.close()
    await expect(
      openSocket(`${server.url}/h`, { headers: { Authorization: `Basic ${token}` } }),
    ).rejects.toThrow('HTTP 401')
  })

  it('cookie `token`, among other cookies and quoted', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['c'] })
    for (const cookie of [
      `token=${token}`,
      `a=1; token=${token}; b=2`,
      `token="${token}"`,
      `token=; token=${token}`,
    ]) {
      const ws = await openSocket(`${server.url}/c`, { headers: { Cookie: cookie } })
      ws.close()
    }
    await expect(openSocket(`${server.url}/c`, { headers: { Cookie: `xtoken=${token}` } })).rejects.toThrow(
      'HTTP 401',
    )
  })

  it('a yauth- subprotocol, echoed back so browsers accept the handshake', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['p'] })
    const ws = await openSocket(`${server.url}/p`, { protocols: ['y-websocket', `yauth-${token}`] })
    expect(ws.protocol).toBe(`yauth-${token}`)
    ws.close()
    // And through a stock provider, which passes protocols to the WebSocket constructor.
    const client = await connectSynced(server.url, 'p', { protocols: [`yauth-${token}`] })
    expect((client.provider.ws as unknown as WebSocket).protocol).toBe(`yauth-${token}`)
  })
})

describe('read mode', () => {
  /** Records what a room publishes to the relay (a real Relay implementation, in-process). */
  function recordingRelay() {
    const published: Uint8Array[] = []
    const relay: Relay = new (class extends NullRelay {
      override join(_sink: RelaySink): Promise<RoomRelay> {
        return Promise.resolve({
          publishUpdate: (update) => published.push(update),
          publishAwareness: () => undefined,
          leave: async () => undefined,
        })
      }
    })()
    return { relay, published }
  }

  it('document updates of a read connection are never applied, stored or relayed, and are counted', async () => {
    const { relay, published } = recordingRelay()
    const server = await startServer({ authSecret: TEST_SECRET }, { relay })
    const write = await signToken({ docs: ['r'], mode: 'write' })
    const read = await signToken({ docs: ['r'], mode: 'read' })
    const writer = await connectSynced(server.url, 'r', { params: { token: write } })
    writer.text.insert(0, 'from writer')
    const reader = await connectSynced(server.url, 'r', { params: { token: read } })
    await waitFor(() => reader.text.toString() === 'from writer', { what: 'reader to receive the doc' })
    const publishedBefore = published.length
    // The reader's handshake (its sync step 2) was already dropped once; count from here.
    const droppedBefore = await metricValue(server.app.metrics.readOnlyUpdatesDropped)

    reader.text.insert(0, 'SHOULD NOT SPREAD ')
    await waitFor(
      async () => (await metricValue(server.app.metrics.readOnlyUpdatesDropped)) > droppedBefore,
      {
        what: 'the read-only update to be dropped',
      },
    )
    // Then a writer edit, which travels the same path: once it has arrived, the earlier
    // read-only update would have too.
    writer.text.insert(writer.text.length, '!')
    const observer = await connectSynced(server.url, 'r', { params: { token: write } })
    await waitFor(() => observer.text.toString() === 'from writer!', {
      what: 'observer to see the writer edit',
    })
    expect(writer.text.toString()).toBe('from writer!')
    expect(server.app.registry.get('r')!.doc.getText('t').toString()).toBe('from writer!')
    expect(published.length).toBe(publishedBefore + 1)
    for (const update of published) {
      const probe = new Y.Doc()
      Y.applyUpdate(probe, update)
      expect(probe.getText('t').toString()).not.toContain('SHOULD NOT')
    }
    // Stored: reload from LevelDB after everything is flushed.
    await server.app.store.flush()
    const stored = await server.app.store.load('r')
    const fromDisk = new Y.Doc()
    Y.applyUpdate(fromDisk, stored.update)
    expect(fromDisk.getText('t').toString()).toBe('from writer!')
  })

  it("a read connection's awareness is visible to the others", async () => {
    const server = await authServer()
    const writer = await connectSynced(server.url, 'aw', {
      params: { token: await signToken({ docs: ['aw'] }) },
    })
    const reader = await connectSynced(server.url, 'aw', {
      params: { token: await signToken({ docs: ['aw'], mode: 'read' }) },
    })
    reader.provider.awareness.setLocalStateField('user', { name: 'reader' })
    const readerId = reader.doc.clientID
    await waitFor(
      () =>
        (writer.provider.awareness.getStates().get(readerId) as { user?: { name: string } })?.user?.name ===
        'reader',
      { what: "the reader's awareness at the writer" },
    )
  })
})

describe('token expiry', () => {
  it('closes the connection with 4001 when the token expires', async () => {
    const server = await authServer()
    const token = await signToken({ docs: ['exp'], expiresIn: 2 })
    const ws = await openSocket(`${server.url}/exp?token=${token}`)
    const started = Date.now()
    const code = await new Promise<number>((resolve) => ws.once('close', resolve))
    expect(code).toBe(4001)
    expect(Date.now() - started).toBeLessThan(3500)
    await waitFor(() => server.app.connectionCount === 0)
  })
})

describe('logs', () => {
  it('never contain a token, whichever carrier and outcome', async () => {
    const server = await authServer({ logLevel: 'trace' })
    const good = await signToken({ docs: ['logged'], expiresIn: 1 })
    const wrongDoc = await signToken({ docs: ['elsewhere'] })
    const expired = await signToken({ expiresIn: -5 })
    const forged = await signToken({ secret: 'a-forged-secret-that-is-32-bytes-long!!' })
    const client = connectClient(server.url, 'logged', { params: { token: good } })
    await waitFor(() => client.provider.synced)
    await rawUpgrade(server.port, `/logged?token=${wrongDoc}`)
    await rawUpgrade(server.port, `/logged?token=${expired}`)
    await rawUpgrade(server.port, '/logged', { Authorization: `Bearer ${forged}` })
    await rawUpgrade(server.port, '/logged', { Cookie: `token=${forged}` })
    await rawUpgrade(server.port, '/logged', { 'Sec-WebSocket-Protocol': `yauth-${forged}` })
    // The good token expires: its close (4001) is logged too.
    await waitFor(() => server.logs.some((line) => line.reason === 'tokenExpired'), {
      what: 'expiry close log',
    })
    client.destroy()
    const text = JSON.stringify(server.logs)
    expect(server.logs.length).toBeGreaterThan(5)
    for (const token of [good, wrongDoc, expired, forged]) {
      expect(text).not.toContain(token)
      // Not even the signature part alone.
      expect(text).not.toContain(token.split('.')[2])
    }
  })
})

describe('ALLOWED_ORIGINS', () => {
  it('refuses browser handshakes from other origins (403), allows listed ones and non-browser clients', async () => {
    const server = await authServer({ allowedOrigins: ['https://app.example.com'] })
    const token = await signToken({ docs: ['o'] })
    const cookie = { Cookie: `token=${token}` }
    expect((await rawUpgrade(server.port, '/o', { ...cookie, Origin: 'https://evil.example' })).status).toBe(
      403,
    )
    expect(
      (await rawUpgrade(server.port, '/o', { ...cookie, Origin: 'https://APP.example.com' })).status,
    ).toBe(101)
    expect((await rawUpgrade(server.port, '/o', cookie)).status).toBe(101)
    expect(await metricValue(server.app.metrics.upgradesRejected, { reason: 'origin' })).toBe(1)
  })
})
