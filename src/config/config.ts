/**
 * The only reader of `process.env`: turns an environment into a validated, frozen Config.
 * Every problem is reported as a ConfigError whose message names the variable, so start-up
 * can stop with one clear line.
 */
import { randomBytes } from 'node:crypto'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Unset: standalone. Set: instances sharing it form one cluster. */
  readonly redisUrl: string | undefined
  /** Seeds of a Redis Cluster (`host:port`), used instead of redisUrl. */
  readonly redisClusterNodes: readonly { host: string; port: number }[] | undefined
  readonly instanceId: string
  readonly authSecret: string | undefined
  /** An identity provider's JWK set (RS256/ES256/EdDSA tokens); turns auth on by itself. */
  readonly authJwksUrl: string | undefined
  /** Required `iss` of identity-provider tokens. */
  readonly authIssuer: string | undefined
  /** Accepted `aud` values of identity-provider tokens (any one matches). */
  readonly authAudience: readonly string[] | undefined
  /** After a JWKS fetch, an unknown `kid` triggers no refetch for this long. */
  readonly authJwksCooldownMs: number
  /** The JWK set is refetched when older than this, so removed keys stop working. */
  readonly authJwksCacheMs: number
  readonly adminToken: string | undefined
  /** Serve /admin/* on this port only (bound to adminHost), away from user traffic. */
  readonly adminPort: number | undefined
  readonly adminHost: string
  readonly maxMessageBytes: number
  readonly maxDocBytes: number
  readonly logLevel: LogLevel
  /** Unsent bytes a client may have queued before it is dropped with 1013. */
  readonly maxBufferedBytes: number
  readonly heartbeatMs: number
  /** How long an empty room stays in memory before it is flushed and unloaded. */
  readonly roomIdleMs: number
  /** Batched LevelDB writes happen at least this often (promise: within 1 s). */
  readonly flushIntervalMs: number
  /** A doc's log is merged into its snapshot once it has this many entries. */
  readonly compactLogEntries: number
  /** ...or once its log holds this many bytes. */
  readonly compactLogBytes: number
  readonly shutdownTimeoutMs: number
  /** Messages per second per connection (token bucket refill); burst is 2x. 0 = unlimited. */
  readonly maxMessagesPerSecond: number
  readonly maxConnections: number
  readonly maxConnectionsPerDoc: number
  readonly maxOpenDocs: number
  /**
   * Browser origins allowed to open WebSockets (exact `scheme://host[:port]`, lowercase).
   * Unset: any. Requests without an Origin header (non-browser clients) are not affected.
   */
  readonly allowedOrigins: readonly string[] | undefined
  /** How long an admin revocation keeps refusing tokens issued before it. */
  readonly revocationTtlMs: number
  /** Prefix of every Redis key this server writes. */
  readonly redisPrefix: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Readonly<Record<string, string | undefined>>

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function readString(env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined) return undefined
  const trimmed = raw.trim()
  return trimmed === '' ? undefined : trimmed
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${raw}`)
  }
  return value
}

function readPort(env: Env, name: string, fallback: number | undefined): number | undefined {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  return readInteger(env, name, 0, 0, 65535)
}

function readRedisUrl(env: Env): string | undefined {
  const raw = readString(env, 'REDIS_URL')
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`REDIS_URL is not a valid URL: "${redactUrl(raw)}"`)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url.protocol}//"`)
  }
  if (url.hostname === '') throw new ConfigError('REDIS_URL has no host')
  return raw
}

function readClusterNodes(env: Env): { host: string; port: number }[] | undefined {
  const raw = readString(env, 'REDIS_CLUSTER_NODES')
  if (raw === undefined) return undefined
  return raw.split(',').map((entry) => {
    const match = /^\s*([^\s:]+|\[[^\]]+\]):(\d{1,5})\s*$/.exec(entry)
    const port = match ? Number(match[2]) : Number.NaN
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_CLUSTER_NODES entries must be host:port, got "${entry.trim()}"`)
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
  })
}

function readJwksUrl(env: Env): string | undefined {
  const raw = readString(env, 'AUTH_JWKS_URL')
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`AUTH_JWKS_URL is not a valid URL: "${redactUrl(raw)}"`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`AUTH_JWKS_URL must start with https:// (or http://), got "${url.protocol}//"`)
  }
  return raw
}

function readList(env: Env, name: string): string[] | undefined {
  const raw = readString(env, name)
  if (raw === undefined) return undefined
  const entries = raw.split(',').map((entry) => entry.trim())
  if (entries.some((entry) => entry === '')) throw new ConfigError(`${name} has an empty entry: "${raw}"`)
  return entries
}

function readOrigins(env: Env): string[] | undefined {
  const raw = readString(env, 'ALLOWED_ORIGINS')
  if (raw === undefined) return undefined
  return raw.split(',').map((entry) => {
    const origin = entry.trim().toLowerCase()
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined // reported below with the entry itself
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError(
        `ALLOWED_ORIGINS entries must be origins like https://app.example.com, got "${entry.trim()}"`,
      )
    }
    return origin
  })
}

/** Hides a password in a URL so config errors never print secrets. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^@/]*)@/, '//***@')
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = (readString(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }
  const redisUrl = readRedisUrl(env)
  const redisClusterNodes = readClusterNodes(env)
  if (redisUrl && redisClusterNodes) {
    throw new ConfigError('set either REDIS_URL or REDIS_CLUSTER_NODES, not both')
  }
  const instanceId = readString(env, 'INSTANCE_ID') ?? randomBytes(4).toString('hex')
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) {
    throw new ConfigError('INSTANCE_ID must be 1-64 characters of A-Z a-z 0-9 . _ -')
  }
  const authSecret = readString(env, 'AUTH_SECRET')
  if (authSecret !== undefined && Buffer.byteLength(authSecret) < 32) {
    throw new ConfigError('AUTH_SECRET must be at least 32 bytes (HS256 needs a 256-bit key)')
  }
  const authJwksUrl = readJwksUrl(env)
  const authIssuer = readString(env, 'AUTH_ISSUER')
  const authAudience = readList(env, 'AUTH_AUDIENCE')
  // They only constrain identity-provider tokens; set alone they would silently check nothing.
  if (authJwksUrl === undefined && authIssuer !== undefined) {
    throw new ConfigError(
      'AUTH_ISSUER is set but AUTH_JWKS_URL is not (it applies to identity-provider tokens)',
    )
  }
  if (authJwksUrl === undefined && authAudience !== undefined) {
    throw new ConfigError(
      'AUTH_AUDIENCE is set but AUTH_JWKS_URL is not (it applies to identity-provider tokens)',
    )
  }
  const adminToken = readString(env, 'ADMIN_TOKEN')
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN must be at least 16 characters')
  }
  if (adminToken !== undefined && adminToken === authSecret) {
    // Otherwise whoever can mint user JWTs (or leaks the signing key) is also an operator.
    throw new ConfigError('ADMIN_TOKEN must differ from AUTH_SECRET')
  }
  const redisPrefix = readString(env, 'REDIS_PREFIX') ?? 'yws'
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(redisPrefix)) {
    throw new ConfigError('REDIS_PREFIX must be 1-32 characters of A-Z a-z 0-9 _ -')
  }
  const MiB = 1024 * 1024
  const config: Config = {
    host: readString(env, 'HOST') ?? 'localhost',
    port: readPort(env, 'PORT', 1234)!,
    dataDir: readString(env, 'DATA_DIR') ?? './data',
    redisUrl,
    redisClusterNodes,
    instanceId,
    authSecret,
    authJwksUrl,
    authIssuer,
    authAudience,
    authJwksCooldownMs: readInteger(env, 'AUTH_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    authJwksCacheMs: readInteger(env, 'AUTH_JWKS_CACHE_MS', 600_000, 1000, 86_400_000),
    adminToken,
    adminPort: readPort(env, 'ADMIN_PORT', undefined),
    adminHost: readString(env, 'ADMIN_HOST') ?? '127.0.0.1',
    maxMessageBytes: readInteger(env, 'MAX_MESSAGE_BYTES', 8 * MiB, 1024, 1024 * MiB),
    maxDocBytes: readInteger(env, 'MAX_DOC_BYTES', 64 * MiB, 1024, 4096 * MiB),
    logLevel: logLevel as LogLevel,
    maxBufferedBytes: readInteger(env, 'MAX_BUFFERED_BYTES', 16 * MiB, 1024, 4096 * MiB),
    heartbeatMs: readInteger(env, 'HEARTBEAT_MS', 30_000, 100, 3_600_000),
    roomIdleMs: readInteger(env, 'ROOM_IDLE_MS', 10_000, 0, 3_600_000),
    flushIntervalMs: readInteger(env, 'FLUSH_INTERVAL_MS', 100, 1, 1000),
    compactLogEntries: readInteger(env, 'COMPACT_LOG_ENTRIES', 500, 2, 10_000_000),
    compactLogBytes: readInteger(env, 'COMPACT_LOG_BYTES', 4 * MiB, 1024, 4096 * MiB),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 8_000, 100, 60_000),
    maxMessagesPerSecond: readInteger(env, 'MAX_MESSAGES_PER_SECOND', 200, 0, 1_000_000),
    maxConnections: readInteger(env, 'MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    maxConnectionsPerDoc: readInteger(env, 'MAX_CONNECTIONS_PER_DOC', 1_000, 1, 1_000_000),
    maxOpenDocs: readInteger(env, 'MAX_OPEN_DOCS', 10_000, 1, 1_000_000),
    allowedOrigins: readOrigins(env),
    revocationTtlMs: readInteger(env, 'REVOCATION_TTL_MS', 86_400_000, 1000, 2_592_000_000),
    redisPrefix,
  }
  return Object.freeze(config)
}

/** A full config for tests and embedding: defaults plus overrides, no environment. */
export function configFor(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig({}), ...overrides })
}
