import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/config.js'

describe('security settings in config', () => {
  const secret = 'x'.repeat(32)

  it('refuses ADMIN_TOKEN equal to AUTH_SECRET', () => {
    expect(() => loadConfig({ AUTH_SECRET: secret, ADMIN_TOKEN: secret })).toThrow(ConfigError)
    expect(() => loadConfig({ AUTH_SECRET: secret, ADMIN_TOKEN: 'y'.repeat(32) })).not.toThrow()
  })

  it('refuses weak secrets and names the variable', () => {
    expect(() => loadConfig({ AUTH_SECRET: 'short' })).toThrow(/AUTH_SECRET/)
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/)
  })

  it('reads limits with their defaults', () => {
    const config = loadConfig({})
    expect(config.revocationTtlMs).toBe(86_400_000)
    expect(config.maxMessagesPerSecond).toBe(200)
    expect(config.maxConnections).toBe(10_000)
    expect(loadConfig({ REVOCATION_TTL_MS: '5000' }).revocationTtlMs).toBe(5000)
    expect(() => loadConfig({ REVOCATION_TTL_MS: '10' })).toThrow(/REVOCATION_TTL_MS/)
    expect(() => loadConfig({ MAX_CONNECTIONS: '0' })).toThrow(/MAX_CONNECTIONS/)
  })
})

describe('ALLOWED_ORIGINS', () => {
  it('parses a comma list of exact origins and refuses anything else', () => {
    expect(loadConfig({}).allowedOrigins).toBeUndefined()
    expect(
      loadConfig({ ALLOWED_ORIGINS: 'https://A.example.com, http://localhost:3000' }).allowedOrigins,
    ).toEqual(['https://a.example.com', 'http://localhost:3000'])
    for (const bad of ['a.example.com', 'https://a.example.com/', 'https://a.example.com/path', '*']) {
      expect(() => loadConfig({ ALLOWED_ORIGINS: bad }), bad).toThrow(/ALLOWED_ORIGINS/)
    }
  })
})
