import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import {
  docMatches,
  JwtAuthorizer,
  tokenFromRequest,
  tokenSubprotocol,
} from '../../src/transport/authorizer.js'
import { RevocationList } from '../../src/transport/revocation-list.js'
import { signToken, TEST_SECRET } from '../helpers/tokens.js'

/** Just the fields the authorizer reads; it never touches the socket. */
function fakeRequest(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage
}

describe('docMatches', () => {
  it.each([
    ['*', 'anything/at/all', true],
    ['doc', 'doc', true],
    ['doc', 'doc2', false],
    ['doc', 'Doc', false],
    ['team/*', 'team/x', true],
    ['team/*', 'team/', true],
    ['team/*', 'team', false],
    ['team/*', 'teams/x', false],
    ['a*b', 'axb', false], // only a trailing * is a wildcard
    ['a*b', 'a*b', true],
    ['', 'x', false],
  ])('%s vs %s -> %s', (pattern, doc, expected) => {
    expect(docMatches(pattern, doc)).toBe(expected)
  })
})

describe('tokenFromRequest', () => {
  it('reads each carrier, query first', () => {
    expect(tokenFromRequest(fakeRequest('/d?token=q'))).toBe('q')
    expect(tokenFromRequest(fakeRequest('/d?a=1&token=q&token=r'))).toBe('q')
    expect(tokenFromRequest(fakeRequest('/d?x=1?token=q'))).toBe(undefined) // `?` inside a value
    expect(tokenFromRequest(fakeRequest('/d', { authorization: 'Bearer h' }))).toBe('h')
    expect(tokenFromRequest(fakeRequest('/d', { authorization: 'bearer   h  ' }))).toBe('h')
    expect(tokenFromRequest(fakeRequest('/d', { authorization: 'Basic h' }))).toBe(undefined)
    expect(tokenFromRequest(fakeRequest('/d', { 'sec-websocket-protocol': 'x, yauth-p' }))).toBe('p')
    expect(tokenFromRequest(fakeRequest('/d', { 'sec-websocket-protocol': 'yauth-' }))).toBe(undefined)
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'a=b; token=c' }))).toBe('c')
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'token="c"' }))).toBe('c')
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'token=c%2Ed' }))).toBe('c.d')
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'token=; token=c' }))).toBe('c')
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'token=%zz' }))).toBe('%zz')
    expect(tokenFromRequest(fakeRequest('/d', { cookie: 'mytoken=c' }))).toBe(undefined)
    expect(
      tokenFromRequest(fakeRequest('/d?token=q', { authorization: 'Bearer h', cookie: 'token=c' })),
    ).toBe('q')
    expect(tokenFromRequest(fakeRequest('/d'))).toBe(undefined)
  })

  it('tokenSubprotocol returns the entry as sent, for the echo', () => {
    expect(tokenSubprotocol('y-websocket, yauth-abc.def')).toBe('yauth-abc.def')
    expect(tokenSubprotocol('y-websocket')).toBe(undefined)
    expect(tokenSubprotocol(undefined)).toBe(undefined)
  })
})

describe('JwtAuthorizer', () => {
  const authorize = async (token: string, doc = 'doc', revocations?: RevocationList) =>
    new JwtAuthorizer(TEST_SECRET, revocations).authorize(fakeRequest(`/${doc}?token=${token}`), doc)

  it('grants with the mode, expiry and subject of the token', async () => {
    const result = await authorize(await signToken({ docs: ['doc'], mode: 'read', sub: 'u1', expiresIn: 60 }))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.grant.readOnly).toBe(true)
    expect(result.grant.subject).toBe('u1')
    expect(result.grant.expiresAt! - Date.now()).toBeGreaterThan(55_000)
  })

  it('names the reason of each refusal', async () => {
    const reasons = async (token: string) => {
      const result = await authorize(token)
      return result.ok ? 'ok' : `${result.status} ${result.reason}`
    }
    expect(await reasons(await signToken({ expiresIn: null }))).toBe('401 token-without-exp')
    expect(await reasons(await signToken({ expiresIn: -1 }))).toBe('401 expired-token')
    expect(await reasons(await signToken({ alg: 'HS512' }))).toBe('401 invalid-token')
    expect(await reasons(await signToken({ docs: ['other'] }))).toBe('403 doc-not-granted')
    expect(await reasons(await signToken({ docs: 'doc' }))).toBe('403 no-docs-claim')
    expect(await reasons(await signToken({ mode: 'owner' }))).toBe('403 bad-mode-claim')
  })

  it('refuses tokens issued before a revocation of their doc or subject', async () => {
    let now = 1_700_000_000_000
    const revocations = new RevocationList({ ttlMs: 60_000, now: () => now })
    const issuedAt = now / 1000 - 5
    const token = await signToken({ docs: ['*'], sub: 'u1', issuedAt })
    revocations.revoke({ sub: 'u1' })
    const refused = await authorize(token, 'doc', revocations)
    expect(refused.ok ? 'ok' : refused.reason).toBe('revoked-token')
    const fresh = await signToken({ docs: ['*'], sub: 'u1', issuedAt: now / 1000 + 1 })
    expect((await authorize(fresh, 'doc', revocations)).ok).toBe(true)
    now += 60_001 // the entry lapses
    expect((await authorize(token, 'doc', revocations)).ok).toBe(true)
  })
})
