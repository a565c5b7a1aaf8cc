import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, resolveConfig, SETTINGS } from '../../src/config/config.js'

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      host: 'localhost',
      port: 1234,
      dataDir: './data',
      redisUrl: undefined,
      maxMessageBytes: 8 * 1024 * 1024,
      maxDocBytes: 64 * 1024 * 1024,
      logLevel: 'info',
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it.each([
    [{ PORT: 'abc' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a valid URL/],
    [{ REDIS_URL: 'http://x:1' }, /REDIS_URL must start with redis:\/\//],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, /REDIS_CLUSTER_NODES entries must be host:port/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ AUTH_SECRET: 'short' }, /AUTH_SECRET must be at least 32 bytes/],
    [{ WEBHOOK_URL: 'https://hooks.example/in' }, /WEBHOOK_SECRET is required when WEBHOOK_URL is set/],
    [{ WEBHOOK_SECRET: `whsec_${'A'.repeat(44)}` }, /WEBHOOK_SECRET is set but WEBHOOK_URL is not/],
    [{ WEBHOOK_URL: 'https://h.example/in', WEBHOOK_SECRET: 'hunter2' }, /WEBHOOK_SECRET must be whsec_/],
    [{ WEBHOOK_URL: 'https://h.example/in', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, /24-64 random bytes/],
    [
      { WEBHOOK_URL: 'https://h.example/in,ftp://x', WEBHOOK_SECRET: `whsec_${'A'.repeat(44)}` },
      /WEBHOOK_URL must start with https:\/\/ \(or http:\/\/\), got "ftp:\/\/"/,
    ],
    [
      { WEBHOOK_DEBOUNCE_MS: '5000', WEBHOOK_MAX_WAIT_MS: '1000' },
      /WEBHOOK_MAX_WAIT_MS \(1000\) must be at least WEBHOOK_DEBOUNCE_MS/,
    ],
    [{ AUTH_JWKS_URL: 'idp.example/jwks' }, /AUTH_JWKS_URL is not a valid URL/],
    [{ AUTH_JWKS_URL: 'ftp://idp.example/jwks' }, /AUTH_JWKS_URL must start with https:\/\//],
    [{ AUTH_ISSUER: 'https://idp.example' }, /AUTH_ISSUER is set but AUTH_JWKS_URL is not/],
    [{ AUTH_AUDIENCE: 'editor' }, /AUTH_AUDIENCE is set but AUTH_JWKS_URL is not/],
    [
      { AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_AUDIENCE: 'a,,b' },
      /AUTH_AUDIENCE has an empty entry/,
    ],
    [{ MAX_MESSAGE_BYTES: '-1' }, /MAX_MESSAGE_BYTES must be a whole number/],
    [{ INSTANCE_ID: 'has space' }, /INSTANCE_ID/],
    [
      { PORT: '8080', ADMIN_PORT: '8080', ADMIN_TOKEN: 'a'.repeat(16) },
      /ADMIN_PORT must differ from PORT \(both are 8080\)/,
    ],
    [{ ADMIN_PORT: '4401' }, /^ADMIN_PORT is set but ADMIN_TOKEN is not/],
    [{ ADMIN_PORT: '4401', ADMIN_TOKEN: '' }, /^ADMIN_PORT is set but ADMIN_TOKEN is not/],
    [{ MAX_BUFFERED_BYTES: '4194304' }, /MAX_BUFFERED_BYTES \(4194304\) must be at least MAX_MESSAGE_BYTES/],
  ])('rejects %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  // Every numeric setting, found by what it accepts: a plain decimal in range.
  const numeric = Object.values(SETTINGS)
    .filter((setting) => setting.exact)
    .map((setting) => setting.env)

  it('knows which settings are numbers', () => {
    expect(numeric).toContain('PORT')
    expect(numeric).toContain('ADMIN_PORT')
    expect(numeric).toContain('MAX_MESSAGE_BYTES')
    expect(numeric.length).toBeGreaterThan(20)
  })

  it.each([
    ' 80',
    '80 ',
    '\t80',
    '80\n',
    '1e3',
    '0x50',
    '0b1',
    '0o7',
    '1_000',
    '+80',
    '80.0',
    '8 0',
    '٨٠',
    'Infinity',
  ])('every numeric setting refuses %j with one line naming it (bugs brief 4)', (raw) => {
    for (const env of numeric) {
      expect(() => loadConfig({ [env]: raw }), env).toThrow(
        new ConfigError(`${env} must be a whole number in decimal digits only, got "${raw}"`),
      )
    }
  })

  it('still takes plain digits (leading zeros too) and treats blank as unset', () => {
    expect(loadConfig({ PORT: '80' }).port).toBe(80)
    expect(loadConfig({ PORT: '0080' }).port).toBe(80)
    expect(loadConfig({ PORT: '   ' }).port).toBe(1234)
    expect(loadConfig({ ADMIN_PORT: '9000', ADMIN_TOKEN: 'a'.repeat(16) }).adminPort).toBe(9000)
  })

  it('treats an empty or blank value as unset, for every setting (DATA_DIR= is ./data)', () => {
    const defaults = loadConfig({})
    for (const setting of Object.values(SETTINGS)) {
      if (setting.env === 'INSTANCE_ID') continue // random when unset
      for (const blank of ['', '  ']) {
        const config = loadConfig({ [setting.env]: blank }) as unknown as Record<string, unknown>
        const key = Object.keys(SETTINGS).find((k) => SETTINGS[k as keyof typeof SETTINGS] === setting)!
        expect(config[key], `${setting.env}=${JSON.stringify(blank)}`).toEqual(
          (defaults as unknown as Record<string, unknown>)[key],
        )
      }
    }
    expect(loadConfig({ DATA_DIR: '' }).dataDir).toBe('./data')
  })

  it('reads the webhook settings with their documented defaults', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
    const config = loadConfig({
      WEBHOOK_URL: 'https://a.example/in, http://b.example/in',
      WEBHOOK_SECRET: secret,
    })
    expect(config).toMatchObject({
      webhookUrls: ['https://a.example/in', 'http://b.example/in'],
      webhookSecret: secret,
      webhookDebounceMs: 2000,
      webhookMaxWaitMs: 10_000,
      webhookRetryMinMs: 5000,
      webhookTimeoutMs: 10_000,
    })
  })

  it('never prints a Redis password in an error', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://user:hunter2@' })).toThrow(/^(?!.*hunter2)/)
  })

  it('parses cluster nodes', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, [::1]:7001' }).redisClusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '::1', port: 7001 },
    ])
  })
})

describe('resolveConfig (createServer options)', () => {
  it('has the same defaults as an empty environment, and reads no environment', () => {
    process.env.PORT = '4321'
    try {
      const { instanceId: _a, ...fromOptions } = resolveConfig({})
      const { instanceId: _b, ...fromEnv } = loadConfig({})
      expect(fromOptions).toEqual(fromEnv)
      expect(fromOptions.port).toBe(1234)
    } finally {
      delete process.env.PORT
    }
  })

  it('takes typed values and treats undefined as unset', () => {
    const config = resolveConfig({
      port: 0,
      redisUrl: undefined,
      allowedOrigins: ['HTTPS://App.example.com'],
      redisClusterNodes: undefined,
    })
    expect(config.port).toBe(0)
    expect(config.allowedOrigins).toEqual(['https://app.example.com'])
    expect(
      resolveConfig({ redisClusterNodes: [{ host: '::1', port: 7000 }, '127.0.0.1:7001'] }).redisClusterNodes,
    ).toEqual([
      { host: '::1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ])
  })

  it.each([
    [{ port: 70000 }, /^port must be between 0 and 65535, got 70000$/],
    [{ port: '80' }, /^port must be a whole number, got "80"$/],
    [{ maxMessageBytes: 1.5 }, /^maxMessageBytes must be a whole number/],
    [{ host: '' }, /^host must be a non-empty string/],
    [{ logLevel: 'loud' }, /^logLevel must be one of/],
    [{ redisUrl: 'http://x:1' }, /^redisUrl must start with redis:\/\//],
    [{ redisClusterNodes: [{ host: 'a', port: 0 }] }, /^redisClusterNodes entries must be/],
    [{ authSecret: 'short' }, /^authSecret must be at least 32 bytes/],
    [{ allowedOrigins: 'https://a.example.com' }, /^allowedOrigins must be an array/],
    [{ redisUrl: 'redis://a:1', redisClusterNodes: ['b:2'] }, /set either redisUrl or redisClusterNodes/],
    [{ authSecret: 'x'.repeat(32), adminToken: 'x'.repeat(32) }, /adminToken must differ from authSecret/],
  ])('rejects %o naming the option', (options, message) => {
    expect(() => resolveConfig(options)).toThrow(ConfigError)
    expect(() => resolveConfig(options)).toThrow(message)
  })
})
