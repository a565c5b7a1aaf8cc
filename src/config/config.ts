/**
 * The server's settings: one table (SETTINGS) with each setting's environment variable,
 * default and rules, read from two sources with the same rules — the environment
 * (`loadConfig`, used only by the CLI's `serve`: this is the only reader of `process.env`)
 * and the options of `createServer` (`resolveConfig`, which never reads the environment).
 * Every problem is a ConfigError whose message names the variable or the option, so start-up
 * can stop with one clear line. To add a setting: a field in Config and a row in SETTINGS
 * (the compiler insists on both) and a line in docs/configuration.md (a test insists).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { ConfigError } from '../errors.js'
import {
  type HostPort,
  hostPortList,
  httpUrl,
  httpUrlList,
  integer,
  oneOf,
  optional,
  originList,
  pattern,
  port,
  redactUrl,
  redisUrl,
  type Setting,
  SettingProblem,
  secret,
  text,
  textList,
  webhookSecret,
} from './setting-kinds.js'

export { redactUrl }

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Unset: standalone. Set: instances sharing it form one cluster. */
  readonly redisUrl: string | undefined
  /** Seeds of a Redis Cluster (`host:port`), used instead of redisUrl. */
  readonly redisClusterNodes: readonly HostPort[] | undefined
  /**
   * This instance's name in logs, metrics and Redis entries: 1–64 of `A-Za-z0-9._-`. Default
   * `<host name>-<8 random hex>`, new at every start; a label, not an identity (need not be unique).
   */
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
  /** Change webhook endpoints (each gets every event); unset: no webhooks. */
  readonly webhookUrls: readonly string[] | undefined
  /** Standard Webhooks signing secret (`whsec_<base64>`), required with webhookUrls. */
  readonly webhookSecret: string | undefined
  /** A doc's window closes this long after its last change... */
  readonly webhookDebounceMs: number
  /** ...or this long after its first undelivered change, whichever comes first. */
  readonly webhookMaxWaitMs: number
  /** First retry of a failed delivery after this long; then doubling up to 1 h. */
  readonly webhookRetryMinMs: number
  /** A delivery attempt without an answer after this long counts as failed. */
  readonly webhookTimeoutMs: number
  /** A doc gets a checkpoint after this much editing time (docs/history.md); 0: only on demand. */
  readonly historyIntervalMs: number
  /** Checkpoints kept per doc (labelled ones may be kept longer: docs/history.md). */
  readonly historyKeep: number
}

/** A setting with a bad value; the message names the environment variable or option. */
export { ConfigError }

const MiB = 1024 * 1024
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Every setting: environment variable, default, rules. Defaults are documented in docs/configuration.md. */
export const SETTINGS: { readonly [K in keyof Config]-?: Setting<Config[K]> } = {
  host: text('HOST', 'localhost'),
  port: port('PORT', 1234),
  dataDir: text('DATA_DIR', './data'),
  redisUrl: redisUrl('REDIS_URL'),
  redisClusterNodes: hostPortList('REDIS_CLUSTER_NODES'),
  instanceId: pattern(
    'INSTANCE_ID',
    () => defaultInstanceId(hostname()),
    /^[A-Za-z0-9._-]{1,64}$/,
    '1-64 characters of A-Z a-z 0-9 . _ -',
  ),
  authSecret: secret('AUTH_SECRET', 32, 'bytes', ' (HS256 needs a 256-bit key)'),
  authJwksUrl: httpUrl('AUTH_JWKS_URL'),
  authIssuer: optional(text('AUTH_ISSUER', '')),
  authAudience: textList('AUTH_AUDIENCE'),
  authJwksCooldownMs: integer('AUTH_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
  authJwksCacheMs: integer('AUTH_JWKS_CACHE_MS', 600_000, 1000, 86_400_000),
  adminToken: secret('ADMIN_TOKEN', 16, 'characters'),
  adminPort: optional(port('ADMIN_PORT', 0)),
  adminHost: text('ADMIN_HOST', '127.0.0.1'),
  maxMessageBytes: integer('MAX_MESSAGE_BYTES', 8 * MiB, 1024, 1024 * MiB),
  maxDocBytes: integer('MAX_DOC_BYTES', 64 * MiB, 1024, 4096 * MiB),
  logLevel: oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
  maxBufferedBytes: integer('MAX_BUFFERED_BYTES', 16 * MiB, 1024, 4096 * MiB),
  heartbeatMs: integer('HEARTBEAT_MS', 30_000, 100, 3_600_000),
  roomIdleMs: integer('ROOM_IDLE_MS', 10_000, 0, 3_600_000),
  flushIntervalMs: integer('FLUSH_INTERVAL_MS', 100, 1, 1000),
  compactLogEntries: integer('COMPACT_LOG_ENTRIES', 500, 2, 10_000_000),
  compactLogBytes: integer('COMPACT_LOG_BYTES', 4 * MiB, 1024, 4096 * MiB),
  shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 8_000, 100, 60_000),
  maxMessagesPerSecond: integer('MAX_MESSAGES_PER_SECOND', 200, 0, 1_000_000),
  maxConnections: integer('MAX_CONNECTIONS', 10_000, 1, 1_000_000),
  maxConnectionsPerDoc: integer('MAX_CONNECTIONS_PER_DOC', 1_000, 1, 1_000_000),
  maxOpenDocs: integer('MAX_OPEN_DOCS', 10_000, 1, 1_000_000),
  allowedOrigins: originList('ALLOWED_ORIGINS'),
  revocationTtlMs: integer('REVOCATION_TTL_MS', 86_400_000, 1000, 2_592_000_000),
  redisPrefix: pattern(
    'REDIS_PREFIX',
    () => 'yws',
    /^[A-Za-z0-9_-]{1,32}$/,
    '1-32 characters of A-Z a-z 0-9 _ -',
  ),
  webhookUrls: httpUrlList('WEBHOOK_URL'),
  webhookSecret: webhookSecret('WEBHOOK_SECRET'),
  webhookDebounceMs: integer('WEBHOOK_DEBOUNCE_MS', 2000, 0, 3_600_000),
  webhookMaxWaitMs: integer('WEBHOOK_MAX_WAIT_MS', 10_000, 1, 86_400_000),
  webhookRetryMinMs: integer('WEBHOOK_RETRY_MIN_MS', 5000, 1, 3_600_000),
  webhookTimeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
  historyIntervalMs: integer('HISTORY_INTERVAL_MS', 600_000, 0, 2_592_000_000),
  historyKeep: integer('HISTORY_KEEP', 100, 1, 100_000),
}

type Env = Readonly<Record<string, string | undefined>>
type Key = keyof Config
type NameOf = (key: Key) => string

/** Builds a Config one setting at a time; `read` returns undefined for "use the default". */
function build(read: (key: Key, setting: Setting<unknown>) => unknown, nameOf: NameOf): Config {
  const values: Record<string, unknown> = {}
  for (const key of Object.keys(SETTINGS) as Key[]) {
    const setting = SETTINGS[key] as Setting<unknown>
    try {
      const value = read(key, setting)
      values[key] = value === undefined ? setting.fallback() : value
    } catch (error) {
      if (error instanceof SettingProblem) throw new ConfigError(`${nameOf(key)} ${error.message}`)
      throw error
    }
  }
  const config = values as unknown as Config
  checkCombination(config, nameOf)
  return Object.freeze(config)
}

/** Rules that involve two settings. */
function checkCombination(config: Config, nameOf: NameOf): void {
  if (config.redisUrl && config.redisClusterNodes) {
    throw new ConfigError(`set either ${nameOf('redisUrl')} or ${nameOf('redisClusterNodes')}, not both`)
  }
  // They only constrain identity-provider tokens; set alone they would silently check nothing.
  for (const key of ['authIssuer', 'authAudience'] as const) {
    if (config.authJwksUrl === undefined && config[key] !== undefined) {
      throw new ConfigError(
        `${nameOf(key)} is set but ${nameOf('authJwksUrl')} is not (it applies to identity-provider tokens)`,
      )
    }
  }
  if (config.webhookUrls !== undefined && config.webhookSecret === undefined) {
    throw new ConfigError(
      `${nameOf('webhookSecret')} is required when ${nameOf('webhookUrls')} is set (whsec_<base64>)`,
    )
  }
  if (config.webhookSecret !== undefined && config.webhookUrls === undefined) {
    throw new ConfigError(`${nameOf('webhookSecret')} is set but ${nameOf('webhookUrls')} is not`)
  }
  if (config.webhookMaxWaitMs < config.webhookDebounceMs) {
    throw new ConfigError(
      `${nameOf('webhookMaxWaitMs')} (${config.webhookMaxWaitMs}) must be at least ${nameOf('webhookDebounceMs')} (${config.webhookDebounceMs})`,
    )
  }
  if (config.adminToken !== undefined && config.adminToken === config.authSecret) {
    // Otherwise whoever can mint user JWTs (or leaks the signing key) is also an operator.
    throw new ConfigError(`${nameOf('adminToken')} must differ from ${nameOf('authSecret')}`)
  }
  // Without a token the admin endpoints are disabled: the port would answer nothing but 404.
  if (config.adminPort !== undefined && config.adminToken === undefined) {
    throw new ConfigError(
      `${nameOf('adminPort')} is set but ${nameOf('adminToken')} is not (admin endpoints are disabled without it); set ${nameOf('adminToken')} or unset ${nameOf('adminPort')}`,
    )
  }
  // Both servers would bind the same port: the second bind fails with a bare EADDRINUSE.
  if (config.adminPort !== undefined && config.adminPort !== 0 && config.adminPort === config.port) {
    throw new ConfigError(
      `${nameOf('adminPort')} must differ from ${nameOf('port')} (both are ${config.port}); unset ${nameOf('adminPort')} to serve /admin on ${nameOf('port')}`,
    )
  }
  // Every update a client may send must be forwardable to the others: a message larger than
  // the send budget would close every reader with 1013, on every retry.
  if (config.maxBufferedBytes < config.maxMessageBytes) {
    throw new ConfigError(
      `${nameOf('maxBufferedBytes')} (${config.maxBufferedBytes}) must be at least ${nameOf('maxMessageBytes')} (${config.maxMessageBytes}): an accepted update must fit a client's send budget`,
    )
  }
}

/**
 * The configuration an environment describes (empty values count as unset). Only the CLI's
 * `serve` calls this with `process.env`; the result is a valid `createServer` options object.
 * @throws ConfigError naming the variable.
 */
export function loadConfig(env: Env = process.env): Config {
  return build(
    (_key, setting) => {
      const given = env[setting.env]
      const raw = given?.trim()
      if (raw === undefined || raw === '') return undefined
      return setting.parse(setting.exact ? (given as string) : raw)
    },
    (key) => SETTINGS[key].env,
  )
}

/**
 * The configuration `createServer` options describe: defaults for what is missing (or
 * `undefined`), every given value checked. Never reads the environment; unknown keys are
 * ignored (they are the caller's own options, such as `hooks`).
 * @throws ConfigError naming the option.
 */
export function resolveConfig(options: Readonly<Partial<Record<Key, unknown>>>): Config {
  return build(
    (key, setting) => (options[key] === undefined ? undefined : setting.check(options[key])),
    (key) => key,
  )
}

/**
 * The INSTANCE_ID when none is set: `<host name>-<8 random hex digits>`, drawn anew at every
 * start, as the contract says ("random"). The host name keeps it readable in logs; characters
 * INSTANCE_ID does not allow become `-` and the host name is cut to 55 characters, so the
 * result always fits 1–64 of `A-Za-z0-9._-`. Correctness never depends on it (the relay tells
 * its own entries by a nonce); operators who want Prometheus series that survive a restart
 * set INSTANCE_ID themselves (docs/configuration.md).
 * @param hostName usually `os.hostname()`; may be empty or hold any characters.
 * @returns e.g. `web-1.example.com-3f9a01c2`.
 */
export function defaultInstanceId(hostName: string): string {
  const host = hostName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 55) || 'host'
  return `${host}-${randomBytes(4).toString('hex')}`
}

/**
 * A full config for tests and embedding: defaults plus overrides, no environment. Each call
 * draws its own random instance id (unless one is given), so two servers made this way
 * never share one.
 */
export function configFor(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig({}), ...overrides })
}
