/**
 * The document API's view of a doc's Redis state: read it without joining (no epoch is
 * created, nothing is followed), delete it under a new deletion generation, and read that
 * generation. See docs/integrations.md ("Deleting a document") for why the generation exists.
 */
import { ClusterUnavailableError, CorruptStateError } from '../errors.js'
import { parseStoredDecimal } from '../protocol/stored-integer.js'
import type { RedisClient } from './redis-client.js'
import type { RawEntry } from './redis-doc-state.js'
import type { DocKeys } from './redis-keys.js'
import { decodeEntry, isStaleUpdate } from './stream-entry.js'

/**
 * Every update Redis holds for the doc (snapshot first, then stream updates; awareness and
 * other entries skipped), as stored: the caller validates and merges. Empty: Redis has nothing.
 * Updates written before the doc's last delete that landed after it (late entries) are left out.
 */
export async function peekDocUpdates(redis: RedisClient, keys: DocKeys): Promise<Uint8Array[]> {
  const replies = await redis
    .multi()
    .hgetBuffer(keys.snapshot, 'data')
    .xrangeBuffer(keys.stream, '-', '+')
    .get(keys.generation)
    .exec()
  if (!replies) throw new ClusterUnavailableError('MULTI aborted')
  for (const [error] of replies) if (error) throw error
  const snapshot = replies[0]![1] as Buffer | null
  const entries = replies[1]![1] as RawEntry[]
  const storedGeneration = replies[2]![1] as string | null
  // A malformed generation filters nothing (as in a room's sync).
  const generation = storedGeneration === null ? 0 : parseStoredDecimal(storedGeneration)
  const updates: Uint8Array[] = []
  if (snapshot && snapshot.length > 0) updates.push(new Uint8Array(snapshot))
  for (const [, fields] of entries) {
    const decoded = decodeEntry(fields)
    if (decoded.ok && decoded.entry.kind === 'u' && !isStaleUpdate(decoded.entry, generation)) {
      updates.push(decoded.entry.data)
    }
  }
  return updates
}

/**
 * Bumps the doc's deletion generation and removes its stream and snapshot, in one MULTI (one
 * slot: every key of a doc shares a hash tag). Returns the new generation.
 */
export async function deleteDocState(redis: RedisClient, keys: DocKeys): Promise<number> {
  const replies = await redis.multi().incr(keys.generation).del(keys.stream, keys.snapshot).exec()
  if (!replies) throw new ClusterUnavailableError('MULTI aborted')
  for (const [error] of replies) if (error) throw error
  return replies[0]![1] as number
}

/*
 * KEYS[1] the doc's stream, ARGV[1] a relay's nonce, ARGV[2] a deletion generation or '':
 * removes the update entries that relay wrote (with a generation: only those written under an
 * older one, or none). Only its own: entries of other instances written after the delete are
 * new content (and an instance sharing our INSTANCE_ID is another instance: hence the nonce,
 * not the label); so are its own entries written into the doc as it is after the delete.
 */
const REMOVE_INSTANCE_UPDATES = `
local removed = 0
local below = tonumber(ARGV[2])
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local fields = entry[2]
  local mine, update, generation = false, false, nil
  for i = 1, #fields, 2 do
    if fields[i] == 'n' and fields[i + 1] == ARGV[1] then mine = true end
    if fields[i] == 'k' and fields[i + 1] == 'u' then update = true end
    if fields[i] == 'g' then generation = tonumber(fields[i + 1]) end
  end
  local old = below == nil or generation == nil or generation < below
  if mine and update and old then removed = removed + redis.call('XDEL', KEYS[1], entry[1]) end
end
return removed
`

/**
 * Removes the update entries the relay with `nonce` appended to the doc's stream: what it relayed just
 * before its room closed after a delete (a late relay entry). With `generation` (the delete's),
 * only entries written under an older generation or none. Returns how many were removed.
 */
export async function removeInstanceUpdates(
  redis: RedisClient,
  keys: DocKeys,
  nonce: string,
  generation?: number,
): Promise<number> {
  return (await redis.eval(REMOVE_INSTANCE_UPDATES, 1, keys.stream, nonce, generation ?? '')) as number
}

/**
 * The doc's deletion generation in Redis (0: never deleted).
 * @throws CorruptStateError when the key holds anything but decimal digits (the deletion gate
 *   logs it and serves the local copy, as when Redis cannot be asked: no delete of ours can
 *   have happened since, because INCR refuses such a value)
 */
export async function readGeneration(redis: RedisClient, keys: DocKeys): Promise<number> {
  const value = await redis.get(keys.generation)
  if (value === null) return 0
  const generation = parseStoredDecimal(value)
  if (generation === undefined) {
    throw new CorruptStateError(
      `Redis key ${keys.generation} holds ${JSON.stringify(value)}, not a deletion generation`,
    )
  }
  return generation
}
