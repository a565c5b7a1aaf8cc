import { describe, expect, it } from 'vitest'
import { RevocationList } from '../../src/transport/revocation-list.js'

describe('RevocationList', () => {
  const at = 1_700_000_000_500 // mid-second on purpose
  const list = (now = () => at, maxEntries?: number) =>
    new RevocationList({ ttlMs: 10_000, now, ...(maxEntries ? { maxEntries } : {}) })

  it('revokes by doc and by sub independently', () => {
    const revocations = list()
    revocations.revoke({ doc: 'd' })
    revocations.revoke({ sub: 'u' })
    const old = at / 1000 - 100
    expect(revocations.isRevoked('d', undefined, old)).toBe(true)
    expect(revocations.isRevoked('other', 'u', old)).toBe(true)
    expect(revocations.isRevoked('other', 'v', old)).toBe(false)
    // A doc called like a user is not that user.
    expect(revocations.isRevoked('u', undefined, old)).toBe(false)
  })

  it('treats the revocation second and missing iat as revoked, later seconds as fresh', () => {
    const revocations = list()
    revocations.revoke({ doc: 'd' })
    const second = Math.floor(at / 1000)
    expect(revocations.isRevoked('d', undefined, second)).toBe(true)
    expect(revocations.isRevoked('d', undefined, undefined)).toBe(true)
    expect(revocations.isRevoked('d', undefined, second + 1)).toBe(false)
  })

  it('forgets entries after the TTL and keeps at most maxEntries', () => {
    let now = at
    const revocations = list(() => now, 2)
    revocations.revoke({ doc: 'a' })
    now += 1000
    revocations.revoke({ doc: 'b' })
    revocations.revoke({ doc: 'c' }) // evicts a, the oldest
    expect(revocations.size).toBe(2)
    expect(revocations.isRevoked('a', undefined, undefined)).toBe(false)
    expect(revocations.isRevoked('c', undefined, undefined)).toBe(true)
    now += 10_000
    expect(revocations.size).toBe(0)
    expect(revocations.isRevoked('c', undefined, undefined)).toBe(false)
  })
})
