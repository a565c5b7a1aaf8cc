/**
 * Change windows of the whole cluster in Redis: every instance records its changes into one
 * hash per doc, and whichever instance first sees a window due claims it atomically — so each
 * window becomes exactly one delivery, whatever the number of instances.
 *
 * Keys (all share the hash tag `{wh}`, so every script runs in one Redis Cluster slot):
 *   <prefix>:{wh}:due            zset: doc -> when its open window closes (unix ms)
 *   <prefix>:{wh}:win:<b64(doc)> hash: id, doc, first, last, u:<sub>, sv:<instance>/<nonce>
 *   <prefix>:{wh}:claimed        zset: id -> lease expiry of a claimed window (unix ms)
 *   <prefix>:{wh}:claim:<id>     hash: the claimed window (the renamed win hash + closed)
 *
 * The claim is one script: the window is due by Redis' clock, its id is the one we read, and
 * then RENAME + ZREM + ZADD happen together, so two instances can never both claim it and a
 * change recorded a microsecond later opens a fresh window. The claimer writes the delivery
 * to its LevelDB outbox, then releases (DEL + ZREM). If it dies in between (a few ms), the
 * lease expires and another instance takes the claim over: same id, so at worst the receiver
 * sees one duplicate `webhook-id` (at-least-once), never a lost window.
 * Times come from Redis' TIME inside the scripts: one clock for the whole cluster.
 */
import { randomBytes } from 'node:crypto'
import type { Config } from '../config/config.js'
import { parseStoredDecimal } from '../protocol/stored-integer.js'
import { ioredis } from '../relay/ioredis-module.js'
import type { RedisClient } from '../relay/redis-client.js'
import type { ClosedWindow } from './webhook-event.js'
import { type LocalChanges, newMessageId, type WindowBoard, type WindowTiming } from './window-board.js'

/** How long a claimer has to persist a claimed window before another instance takes over. */
export const CLAIM_LEASE_MS = 10_000

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

// KEYS: win, due. ARGV: doc, debounceMs, maxWaitMs, firstAgeMs, lastAgeMs, newId, instance, sv, users...
const RECORD = `${NOW}
local first = tonumber(redis.call('HGET', KEYS[1], 'first'))
if not first then
  first = now - tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'first', first, 'id', ARGV[6], 'doc', ARGV[1])
end
local last = now - tonumber(ARGV[5])
local previous = tonumber(redis.call('HGET', KEYS[1], 'last'))
if previous and previous > last then last = previous end
redis.call('HSET', KEYS[1], 'last', last)
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'sv:' .. ARGV[7], ARGV[8]) end
for i = 9, #ARGV do redis.call('HSET', KEYS[1], 'u:' .. ARGV[i], '1') end
redis.call('ZADD', KEYS[2], math.min(last + tonumber(ARGV[2]), first + tonumber(ARGV[3])), ARGV[1])
return 1`

// KEYS: due, claimed, win, claim. ARGV: doc, id, leaseMs.
const CLAIM = `${NOW}
local due = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if (not due) or due > now then return false end
if redis.call('HGET', KEYS[3], 'id') ~= ARGV[2] then return false end
redis.call('RENAME', KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[4], 'closed', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
return redis.call('HGETALL', KEYS[4])`

// KEYS: claimed, claim. ARGV: id, leaseMs.
const TAKE_OVER = `${NOW}
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if (not expiry) or expiry > now then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return false
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return redis.call('HGETALL', KEYS[2])`

// KEYS: due, win. ARGV: doc.
const DISCARD = `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`

interface BoardKeys {
  readonly due: string
  readonly claimed: string
  win(doc: string): string
  claim(id: string): string
}

function boardKeys(prefix: string): BoardKeys {
  const base = `${prefix}:{wh}`
  return {
    due: `${base}:due`,
    claimed: `${base}:claimed`,
    win: (doc) => `${base}:win:${Buffer.from(doc, 'utf8').toString('base64url')}`,
    claim: (id) => `${base}:claim:${id}`,
  }
}

export interface RedisWindowBoardOptions {
  readonly client: RedisClient
  readonly prefix: string
  readonly instanceId: string
  readonly timing: WindowTiming
  readonly leaseMs?: number
}

export class RedisWindowBoard implements WindowBoard {
  private readonly keys: BoardKeys
  private readonly leaseMs: number
  /**
   * Whose state vector a record is (`sv:` field): INSTANCE_ID plus a random nonce, since two
   * live instances may share an INSTANCE_ID and one's view must not overwrite the other's.
   */
  private readonly recorder: string

  constructor(private readonly options: RedisWindowBoardOptions) {
    this.keys = boardKeys(options.prefix)
    this.recorder = `${options.instanceId}/${randomBytes(8).toString('hex')}`
    this.leaseMs = options.leaseMs ?? CLAIM_LEASE_MS
  }

  async record(changes: LocalChanges): Promise<void> {
    const { timing } = this.options
    await this.options.client.eval(
      RECORD,
      2,
      this.keys.win(changes.doc),
      this.keys.due,
      changes.doc,
      timing.debounceMs,
      timing.maxWaitMs,
      Math.max(0, Math.round(changes.firstAgeMs)),
      Math.max(0, Math.round(changes.lastAgeMs)),
      newMessageId(),
      this.recorder,
      changes.stateVector ?? '',
      ...changes.users,
    )
  }

  async claimDue(limit: number): Promise<ClosedWindow[]> {
    const client = this.options.client
    const claimed: ClosedWindow[] = []
    // Candidates by our clock; each script re-checks by Redis' clock, so skew only shifts
    // when we look, never what gets claimed.
    const docs = await client.zrangebyscore(this.keys.due, '-inf', Date.now(), 'LIMIT', 0, limit)
    for (const doc of docs) {
      const id = await client.hget(this.keys.win(doc), 'id')
      if (id === null) continue
      const fields = (await client.eval(
        CLAIM,
        4,
        this.keys.due,
        this.keys.claimed,
        this.keys.win(doc),
        this.keys.claim(id),
        doc,
        id,
        this.leaseMs,
      )) as string[] | null
      const window = fields ? windowFromFields(id, fields) : undefined
      if (window) claimed.push(window)
    }
    const orphans = await client.zrangebyscore(this.keys.claimed, '-inf', Date.now(), 'LIMIT', 0, limit)
    for (const id of orphans) {
      const fields = (await client.eval(
        TAKE_OVER,
        2,
        this.keys.claimed,
        this.keys.claim(id),
        id,
        this.leaseMs,
      )) as string[] | null
      const window = fields ? windowFromFields(id, fields) : undefined
      if (window) claimed.push(window)
    }
    return claimed
  }

  async release(window: ClosedWindow): Promise<void> {
    await this.options.client
      .multi()
      .zrem(this.keys.claimed, window.id)
      .del(this.keys.claim(window.id))
      .exec()
  }

  async discard(doc: string): Promise<void> {
    await this.options.client.eval(DISCARD, 2, this.keys.due, this.keys.win(doc), doc)
  }

  async close(): Promise<void> {
    // The client belongs to whoever created it (see createWebhookRedis).
  }
}

/** A claimed hash back into a window; undefined if it lacks what every window has. */
function windowFromFields(id: string, fields: readonly string[]): ClosedWindow | undefined {
  const hash = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) hash.set(fields[i]!, fields[i + 1]!)
  const doc = hash.get('doc')
  // Epoch ms the scripts wrote as integers; strict, so an empty or damaged field is not 0.
  const [first, last, closed] = ['first', 'last', 'closed'].map((field) => {
    const value = hash.get(field)
    return value === undefined ? undefined : parseStoredDecimal(value)
  })
  if (doc === undefined || first === undefined || last === undefined || closed === undefined) {
    return undefined
  }
  const users: string[] = []
  const stateVectors: string[] = []
  for (const [field, value] of hash) {
    if (field.startsWith('u:')) users.push(field.slice(2))
    else if (field.startsWith('sv:')) stateVectors.push(value)
  }
  return { id, doc, firstChangeAt: first, lastChangeAt: last, closedAt: closed, users, stateVectors }
}

/**
 * The board's own Redis connection (one Redis or a Cluster, as the config says). Commands
 * fail fast while Redis is away: the service keeps its changes and retries on the next tick.
 */
export function createWebhookRedis(config: Config): RedisClient | undefined {
  const options = {
    lazyConnect: true,
    // RESP2: script replies (HGETALL) keep their flat-array shape.
    protocol: 2 as const,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    connectionName: `yws-${config.instanceId}-webhooks`,
  }
  if (config.redisClusterNodes) {
    return new (ioredis().Cluster)(
      config.redisClusterNodes.map((node) => ({ ...node })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: (attempt) => Math.min(50 * attempt, 1000),
        redisOptions: options,
      },
    )
  }
  if (!config.redisUrl) return undefined
  return new (ioredis().Redis)(config.redisUrl, {
    ...options,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  })
}
