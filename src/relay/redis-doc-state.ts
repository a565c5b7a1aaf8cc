/**
 * Reads and rewrites one document's Redis state (snapshot hash + stream) atomically.
 *
 * Invariant kept by every writer: snapshot.data ∪ stream entries = every update any instance
 * published for the doc since `epoch` was created. The snapshot covers exactly the entries
 * with id <= snapshot.lastId; a trim removes only ids < `trimmed` <= next(lastId), so nothing
 * is removed that the snapshot does not cover. `writeSnapshotAndTrim` is compare-and-set on
 * lastId so a compactor whose lock expired can never overwrite a newer snapshot.
 */

import { randomBytes } from 'node:crypto'
import { ClusterUnavailableError } from '../errors.js'
import { validateUpdate } from '../protocol/messages.js'
import { parseStoredDecimal } from '../protocol/stored-integer.js'
import type { RedisClient } from './redis-client.js'
import type { DocKeys } from './redis-keys.js'
import { compareIds, decodeEntry, isStaleUpdate, nextId, ZERO_ID } from './stream-entry.js'

export type RawEntry = [id: Buffer, fields: Buffer[]]

export interface DocState {
  /** Merged update covering stream ids <= snapshotLastId (undefined: none yet). */
  readonly snapshot: Uint8Array | undefined
  /** The last stream id the snapshot covers (undefined: no snapshot written yet). */
  readonly snapshotLastId: string | undefined
  readonly epoch: string
  /** Every stream entry still present, oldest first. */
  readonly entries: readonly RawEntry[]
  /** Where a reader continues after this state: the last entry's id, or the snapshot's. */
  readonly tailId: string
  /**
   * The doc's deletion generation (0: never deleted); see redis-doc-admin.ts. undefined: the
   * key holds something that is not one (room-sync.ts logs it and skips the deletion check).
   */
  readonly generation: number | undefined
}

/** One MULTI: creates the epoch if missing, then reads snapshot and stream together. */
export async function readDocState(redis: RedisClient, keys: DocKeys): Promise<DocState> {
  const replies = await redis
    .multi()
    .hsetnx(keys.snapshot, 'epoch', randomBytes(8).toString('hex'))
    .hgetallBuffer(keys.snapshot)
    .xrangeBuffer(keys.stream, '-', '+')
    .get(keys.generation)
    .exec()
  if (!replies) throw new ClusterUnavailableError('MULTI aborted')
  for (const [error] of replies) if (error) throw error
  const hash = replies[1]![1] as Record<string, Buffer>
  const generation = replies[3]![1] as string | null
  const entries = replies[2]![1] as RawEntry[]
  const snapshotLastId = hash.lastId ? hash.lastId.toString() : undefined
  const last = entries.at(-1)
  return {
    snapshot: hash.data && hash.data.length > 0 ? new Uint8Array(hash.data) : undefined,
    snapshotLastId,
    epoch: hash.epoch?.toString() ?? '',
    entries,
    tailId: last ? last[0].toString() : (snapshotLastId ?? ZERO_ID),
    generation: generation === null ? 0 : parseStoredDecimal(generation),
  }
}

/**
 * The Yjs updates among a doc's stream entries, validated, oldest first. Awareness and
 * awareness queries in the tail are history, not content. Entries that fail to decode or
 * validate are left out (they could never be applied) and reported to `onBad`; so are, silently,
 * updates written under a deletion generation below `generation` (late entries from before a
 * delete: stream-entry.ts `isStaleUpdate`).
 */
export function entryUpdates(
  entries: readonly RawEntry[],
  onBad: (id: string, reason: string) => void,
  generation?: number,
): Uint8Array[] {
  const updates: Uint8Array[] = []
  for (const [id, fields] of entries) {
    const decoded = decodeEntry(fields)
    if (!decoded.ok) {
      onBad(id.toString(), decoded.reason)
      continue
    }
    if (decoded.entry.kind !== 'u' || isStaleUpdate(decoded.entry, generation)) continue
    const problem = validateUpdate(decoded.entry.data)
    if (problem) onBad(id.toString(), problem)
    else updates.push(decoded.entry.data)
  }
  return updates
}

export interface GapProbe {
  readonly epoch: string | undefined
  /** MINID of the last trim (entries below it may be gone). */
  readonly trimmed: string | undefined
  readonly streamExists: boolean
}

/** What a reader needs to decide whether it missed entries (cheap: no payloads). */
export async function probeDoc(redis: RedisClient, keys: DocKeys): Promise<GapProbe> {
  const replies = await redis.multi().hmget(keys.snapshot, 'epoch', 'trimmed').exists(keys.stream).exec()
  if (!replies) throw new ClusterUnavailableError('MULTI aborted')
  for (const [error] of replies) if (error) throw error
  const [epoch, trimmed] = replies[0]![1] as (string | null)[]
  return {
    epoch: epoch ?? undefined,
    trimmed: trimmed ?? undefined,
    streamExists: (replies[1]![1] as number) === 1,
  }
}

/**
 * Why a reader that stood at `position` (having synced under `epoch`) may have missed entries,
 * or undefined: Redis lost the doc's data, the stream vanished, or the last trim's MINID lies
 * past the next id (entries after `position` may be gone).
 */
export function gapReason(probe: GapProbe, epoch: string | undefined, position: string): string | undefined {
  if (probe.epoch !== epoch) return 'redis-data-lost'
  if (!probe.streamExists && position !== ZERO_ID) return 'stream-vanished'
  if (probe.trimmed !== undefined && compareIds(probe.trimmed, nextId(position)) > 0) return 'trimmed'
  return undefined
}

/*
 * KEYS[1] snapshot hash, KEYS[2] stream. ARGV: expected lastId ('' = none), data, new lastId,
 * margin ms. Trims to min(next(newLastId), now - margin): entries younger than the margin stay
 * even when covered, so live readers (a few ms behind) never lose an entry they have not read.
 */
const WRITE_SNAPSHOT_AND_TRIM = `
local current = redis.call('HGET', KEYS[1], 'lastId') or ''
if current ~= ARGV[1] then return 0 end
local dash = string.find(ARGV[3], '-', 1, true)
local ms = tonumber(string.sub(ARGV[3], 1, dash - 1))
local seq = tonumber(string.sub(ARGV[3], dash + 1))
local t = redis.call('TIME')
local horizon = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])
local minMs, minSeq
if horizon <= ms then minMs, minSeq = horizon, 0 else minMs, minSeq = ms, seq + 1 end
local minid = string.format('%.0f-%.0f', minMs, minSeq)
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'lastId', ARGV[3])
-- 'trimmed' only grows (a clock step back must not hide an earlier, deeper trim from readers).
local old = redis.call('HGET', KEYS[1], 'trimmed')
local keep = true
if old then
  local d = string.find(old, '-', 1, true)
  local oms, oseq = tonumber(string.sub(old, 1, d - 1)), tonumber(string.sub(old, d + 1))
  keep = not (oms > minMs or (oms == minMs and oseq >= minSeq))
end
if keep then redis.call('HSET', KEYS[1], 'trimmed', minid) end
redis.call('XTRIM', KEYS[2], 'MINID', minid)
return 1
`

/** Stores a snapshot covering entries <= lastId and trims what it covers. false: lost a race. */
export async function writeSnapshotAndTrim(
  redis: RedisClient,
  keys: DocKeys,
  expectedLastId: string | undefined,
  data: Uint8Array,
  lastId: string,
  marginMs: number,
): Promise<boolean> {
  const result = await redis.eval(
    WRITE_SNAPSHOT_AND_TRIM,
    2,
    keys.snapshot,
    keys.stream,
    expectedLastId ?? '',
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    lastId,
    String(marginMs),
  )
  return result === 1
}

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** Takes the doc's compaction lock (one compactor per doc at a time). */
export async function tryLock(
  redis: RedisClient,
  keys: DocKeys,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  return (await redis.set(keys.lock, owner, 'PX', ttlMs, 'NX')) === 'OK'
}

/** Releases the lock only if we still own it (it may have expired and been taken). */
export async function releaseLock(redis: RedisClient, keys: DocKeys, owner: string): Promise<void> {
  await redis.eval(RELEASE_LOCK, 1, keys.lock, owner)
}
