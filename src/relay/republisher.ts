/**
 * After Redis lost its data, makes everything this instance's LevelDB holds reachable again
 * for docs that are NOT open here (open rooms resync themselves): each stored doc's state is
 * appended to its stream as one update entry, in bounded batches (one pipeline per batch).
 * Other instances with the doc open apply it (idempotent); joiners read it; the stream is
 * compacted like any other once the doc is open somewhere. Several instances holding the
 * same doc each append their copy: duplicates cost bytes, never correctness.
 *
 * Redis data loss is noticed through a marker key holding a random generation (see
 * `observeGeneration`): a restart without persistence, FLUSHALL, a failover to an empty
 * replica or an eviction all remove it.
 */

import { randomBytes } from 'node:crypto'
import { ClusterUnavailableError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { InstanceIdentity } from './instance-identity.js'
import type { RedisClient } from './redis-client.js'
import { docKeys } from './redis-keys.js'
import { encodeEntryFields } from './stream-entry.js'

/** What the republisher reads from this instance's storage. */
export interface StoredDocs {
  /** Every stored doc name, streamed in name order. */
  names(): AsyncIterable<string>
  /** The doc's whole stored state as one update. */
  load(docName: string): Promise<Uint8Array>
  /** Durable marks of docs whose stored state Redis may lack (see OwedDocs). */
  readonly owed: OwedDocs
  /**
   * The doc's stored state after the deletion gate: a copy the cluster deleted meanwhile is
   * dropped first (empty then), and a delete in progress here is waited for. For owed docs,
   * which the cluster may have deleted since their mark: publishing them must not bring
   * them back.
   */
  loadUndeleted(docName: string): Promise<Uint8Array>
}

/**
 * Docs this instance stored changes of that may not have reached Redis: a publish was
 * dropped or failed while Redis was away, and the room may unload (or the process stop)
 * before Redis returns. Kept on disk beside the docs, so the mark outlives the room and the
 * process; cleared once the doc's stored state was appended to its stream.
 */
export interface OwedDocs {
  /**
   * Marks a doc (idempotent); resolves once the mark is on disk. `sync: false`: written, not
   * fsynced; enough when it only has to precede later writes of the same store (LevelDB's log
   * keeps write order, so nothing written after it survives a crash without it).
   */
  add(docName: string, options?: { sync?: boolean }): Promise<void>
  /** Clears a doc's mark. */
  delete(docName: string): Promise<void>
  /** Every marked doc name. */
  names(): AsyncIterable<string>
}

export interface RepublishOptions {
  readonly redis: RedisClient
  readonly prefix: string
  readonly identity: Pick<InstanceIdentity, 'label' | 'nonce'>
  readonly docs: StoredDocs
  /** Docs to leave out (open here: their rooms resync). */
  readonly skip: (docName: string) => boolean
  /** Docs per batch: loads run together, appends go out as one pipeline. */
  readonly batchSize: number
  /** Runs one batch's Redis call under the relay's deadline. */
  readonly guard: <T>(work: () => Promise<T>) => Promise<T>
  readonly metrics: Metrics
  readonly logger: Logger
  /** Stops early (the relay closed or Redis went away again: the next wipe check redoes it). */
  readonly cancelled: () => boolean
}

export interface RepublishResult {
  readonly docs: number
  readonly bytes: number
  readonly seconds: number
  readonly complete: boolean
}

/** An update with no structs and an empty delete set. */
const EMPTY_UPDATE_BYTES = 2

/** Appends every stored doc (not skipped) to its stream. Throws if a batch fails. */
export async function republishStoredDocs(options: RepublishOptions): Promise<RepublishResult> {
  const started = performance.now()
  let docs = 0
  let bytes = 0
  let batch: string[] = []
  const flushBatch = async () => {
    const names = batch
    batch = []
    const states = await Promise.all(names.map((name) => options.docs.load(name)))
    const appends: (string | Buffer)[][] = []
    names.forEach((name, index) => {
      const state = states[index]!
      if (state.byteLength <= EMPTY_UPDATE_BYTES) return
      appends.push([
        docKeys(options.prefix, name).stream,
        '*',
        ...encodeEntryFields(options.identity.label, 'u', state, options.identity.nonce),
      ])
      bytes += state.byteLength
    })
    if (appends.length === 0) return
    await options.guard(() => appendAll(options.redis, appends))
    const queued = appends.length
    docs += queued
    options.metrics.relayRepublishedDocs.inc(queued)
  }
  let complete = true
  for await (const name of options.docs.names()) {
    if (options.cancelled()) {
      complete = false
      break
    }
    if (options.skip(name)) continue
    batch.push(name)
    if (batch.length >= options.batchSize) await flushBatch()
  }
  if (complete && batch.length > 0) await flushBatch()
  const seconds = (performance.now() - started) / 1000
  return { docs, bytes, seconds, complete }
}

/**
 * One pipeline on one Redis; on a Cluster (no pipeline across slots) one XADD per doc,
 * which ioredis's auto-pipelining still sends as one batch per node. Throws the first error.
 */
async function appendAll(redis: RedisClient, appends: readonly (string | Buffer)[][]): Promise<void> {
  if (redis.isCluster) {
    await Promise.all(appends.map((args) => redis.call('XADD', ...args)))
    return
  }
  const pipeline = redis.pipeline()
  for (const args of appends) pipeline.call('XADD', ...args)
  const results = (await pipeline.exec()) ?? []
  const failed = results.find(([error]) => error)
  if (failed) throw failed[0]
}

export interface GenerationObservation {
  /** The cluster's current Redis generation. */
  readonly value: string
  /** true: the marker was missing and this call created it (Redis holds nothing of before). */
  readonly created: boolean
}

/**
 * Reads the marker of the Redis data generation, creating it when missing (one MULTI:
 * SET NX + GET, so concurrent instances agree on one value).
 */
export async function observeGeneration(redis: RedisClient, key: string): Promise<GenerationObservation> {
  const candidate = randomBytes(8).toString('hex')
  const replies = await redis.multi().set(key, candidate, 'NX').get(key).exec()
  if (!replies) throw new ClusterUnavailableError('MULTI aborted')
  for (const [error] of replies) if (error) throw error
  const value = replies[1]![1] as string
  return { value, created: value === candidate }
}

export function generationKey(prefix: string): string {
  return `${prefix}:generation`
}
