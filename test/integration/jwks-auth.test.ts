/**
 * Identity-provider tokens (AUTH_JWKS_URL): a real local JWKS endpoint, real servers, real
 * sockets. Same 401/403/4001 contract as HS256; key rotation by `kid` without a restart.
 */
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { providerKey, providerToken, startJwksServer } from '../helpers/jwks.js'
import { metricValue } from '../helpers/prometheus.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const status = async (port: number, doc: string, token: string) =>
  (await rawUpgrade(port, `/${doc}?token=${encodeURIComponent(token)}`)).status

describe('AUTH_JWKS_URL', () => {
  it.each(['RS256', 'ES256', 'EdDSA'] as const)(
    'accepts %s tokens; docs and mode claims as with HS256',
    async (alg) => {
      const key = await providerKey(`k-${alg}`, alg)
      const jwks = await startJwksServer([key])
      const server = await startServer({ authJwksUrl: jwks.url })
      expect(await status(server.port, 'a', await providerToken(key, { docs: ['a'] }))).toBe(101)
      expect(await status(server.port, 'b', await providerToken(key, { docs: ['a'] }))).toBe(403)
      expect(await status(server.port, 'a', await providerToken(key, { docs: ['a'], mode: 'admin' }))).toBe(
        403,
      )
      expect(await status(server.port, 'a', await providerToken(key, { expiresIn: -10 }))).toBe(401)
      // A stock provider with a read token gets the doc.
      const reader = await connectSynced(server.url, 'a', {
        params: { token: await providerToken(key, { docs: ['a'], mode: 'read' }) },
      })
      expect(reader.provider.wsconnected).toBe(true)
    },
  )

  it('AUTH_JWKS_URL alone turns auth on: no token 401, HS256 tokens refused', async () => {
    const key = await providerKey('k1')
    const jwks = await startJwksServer([key])
    const server = await startServer({ authJwksUrl: jwks.url })
    expect((await rawUpgrade(server.port, '/a')).status).toBe(401)
    expect(await status(server.port, 'a', await signToken())).toBe(401)
    expect(await metricValue(server.app.metrics.authFailures, { reason: 'invalid-token' })).toBe(1)
    expect(server.logs.some((line) => String(line.msg).includes('are unset'))).toBe(false)
  })

  it('with AUTH_SECRET too, either kind of token is accepted and neither key signs for the other', async () => {
    const key = await providerKey('k1')
    const jwks = await startJwksServer([key])
    const server = await startServer({ authJwksUrl: jwks.url, authSecret: TEST_SECRET })
    expect(await status(server.port, 'a', await signToken({ docs: ['a'] }))).toBe(101)
    expect(await status(server.port, 'a', await providerToken(key, { docs: ['a'] }))).toBe(101)
    expect(await status(server.port, 'a', await signToken({ secret: 'x'.repeat(40) }))).toBe(401)
    const stranger = await providerKey('k1') // same kid, key the provider never published
    expect(await status(server.port, 'a', await providerToken(stranger))).toBe(401)
  })

  it('checks AUTH_ISSUER and AUTH_AUDIENCE when set: a mismatch is 401', async () => {
    const key = await providerKey('k1', 'ES256')
    const jwks = await startJwksServer([key])
    const server = await startServer({
      authJwksUrl: jwks.url,
      authIssuer: 'https://idp.example',
      authAudience: ['editor', 'editor-staging'],
    })
    const good = { iss: 'https://idp.example', aud: 'editor-staging' }
    expect(await status(server.port, 'a', await providerToken(key, good))).toBe(101)
    expect(
      await status(server.port, 'a', await providerToken(key, { ...good, iss: 'https://evil.example' })),
    ).toBe(401)
    expect(await status(server.port, 'a', await providerToken(key, { ...good, aud: 'billing' }))).toBe(401)
    expect(await status(server.port, 'a', await providerToken(key, { iss: good.iss }))).toBe(401)
  })

  it('rotation: a new kid is fetched once; the old key works until the provider drops it', async () => {
    const oldKey = await providerKey('2026-01')
    const newKey = await providerKey('2026-02', 'EdDSA')
    const jwks = await startJwksServer([oldKey])
    const server = await startServer({ authJwksUrl: jwks.url, authJwksCooldownMs: 0, authJwksCacheMs: 1000 })
    const oldToken = await providerToken(oldKey)
    expect(await status(server.port, 'a', oldToken)).toBe(101)
    expect(jwks.fetches).toBe(1)
    expect(await status(server.port, 'a', oldToken)).toBe(101)
    expect(jwks.fetches).toBe(1) // cached

    jwks.serve([oldKey, newKey])
    expect(await status(server.port, 'a', await providerToken(newKey))).toBe(101)
    expect(jwks.fetches).toBe(2) // the unknown kid caused exactly one refetch
    expect(await status(server.port, 'a', oldToken)).toBe(101)
    expect(await status(server.port, 'a', await providerToken(newKey))).toBe(101)
    expect(jwks.fetches).toBe(2)

    // The provider retires the old key: once the cached set ages out (AUTH_JWKS_CACHE_MS)
    // old tokens are refused, new ones still pass.
    jwks.serve([newKey])
    await waitFor(async () => (await status(server.port, 'a', oldToken)) === 401, {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the retired key to be refused',
    })
    expect(await status(server.port, 'a', await providerToken(newKey))).toBe(101)
  })

  it('an unknown kid refetches at most once per cooldown (junk tokens cannot hammer the provider)', async () => {
    const key = await providerKey('k1')
    const jwks = await startJwksServer([key])
    const server = await startServer({ authJwksUrl: jwks.url, authJwksCooldownMs: 60_000 })
    expect(await status(server.port, 'a', await providerToken(key))).toBe(101)
    expect(jwks.fetches).toBe(1)
    const junk = await Promise.all(
      Array.from({ length: 20 }, (_, i) => providerToken(key, { kid: `nope-${i}` })),
    )
    const statuses = await Promise.all(junk.map((token) => status(server.port, 'a', token)))
    expect(new Set(statuses)).toEqual(new Set([401]))
    expect(jwks.fetches).toBe(1)
  })

  it('a provider outage keeps the last key set working, is logged once per cooldown, and is counted', async () => {
    const key = await providerKey('k1')
    const jwks = await startJwksServer([key])
    const server = await startServer({
      authJwksUrl: jwks.url,
      authJwksCooldownMs: 60_000,
      authJwksCacheMs: 1000,
    })
    const token = await providerToken(key)
    expect(await status(server.port, 'a', token)).toBe(101)
    jwks.fail(true)
    // Once the cache is stale, verification asks the provider, which answers 503.
    await waitFor(
      async () => {
        expect(await status(server.port, 'a', token)).toBe(101)
        return jwks.fetches === 2
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'a refetch against the failing provider' },
    )
    for (let i = 0; i < 5; i += 1) expect(await status(server.port, 'a', token)).toBe(101)
    expect(jwks.fetches).toBe(2)
    const failures = server.logs.filter((line) => String(line.msg).startsWith('JWKS fetch failed'))
    expect(failures).toHaveLength(1)
    // A token for a kid we never saw cannot be checked while the provider is down.
    expect(await status(server.port, 'a', await providerToken(await providerKey('k9')))).toBe(401)
    expect(await metricValue(server.app.metrics.authFailures, { reason: 'jwks-unavailable' })).toBe(1)
  })

  it('an expiring provider token closes its open connection with 4001', async () => {
    const key = await providerKey('k1', 'ES256')
    const jwks = await startJwksServer([key])
    const server = await startServer({ authJwksUrl: jwks.url })
    const token = await providerToken(key, { expiresIn: 2 })
    const ws = new WebSocket(`${server.url}/a?token=${token}`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const code = await new Promise<number>((resolve) => ws.once('close', resolve))
    expect(code).toBe(4001)
  })
})
