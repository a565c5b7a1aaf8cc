/**
 * Checkpoints on disk: full encoded states of a doc, in the instance's LevelDB beside the
 * doc's own snapshot and log but in a key range of their own, so neither document loading
 * nor compaction ever reads or deletes them.
 *
 * Layout (U+0000 separates parts; doc names cannot contain it):
 *   h\0<doc>\0m<id>   metadata, JSON {id, at, bytes, users, label?}
 *   h\0<doc>\0s<id>   the state: the doc encoded as one Yjs update (gc'd, as the room holds it)
 * Metadata and state are written and deleted in one batch. Listing reads only the small
 * metadata keys. Ids sort by creation time, so a reverse iterator lists newest first.
 *
 * Each checkpoint is a complete state, never a delta: it depends on nothing else on disk,
 * which is what makes "compaction never removes what a kept version needs" hold by
 * construction, and bounds a checkpoint's size by the doc's encoded size at that moment.
 */
import { randomBytes } from 'node:crypto'
import type { Level } from 'level'
import { assertDocName } from '../doc-name.js'
import { checkpointsToPrune } from './retention.js'

const SEP = '\u0000'
const metaPrefix = (docName: string) => `h${SEP}${docName}${SEP}m`
const statePrefix = (docName: string) => `h${SEP}${docName}${SEP}s`
/** The least key above every key of `prefix` + an id (ids are [0-9a-z]). */
const rangeOf = (prefix: string) => ({ gte: prefix, lt: `${prefix}~` })

/** What the admin API lists for each version. */
export interface CheckpointMeta {
  /** Sortable id: creation time (base 36 ms) + random suffix, e.g. `0miwz3k2a1f0c9e`. */
  readonly id: string
  /** Creation time, ISO 8601. */
  readonly at: string
  /** Size of the stored state in bytes. */
  readonly bytes: number
  /** Who changed the doc between the previous checkpoint and this one (JWT subs, "api", …). */
  readonly users: readonly string[]
  readonly label?: string
}

/** Totals of one doc's history. */
export interface HistoryStats {
  readonly versions: number
  readonly bytes: number
}

/** What a history pruning pass did to one doc (the compaction CLI reports it). */
export interface HistoryPruneResult {
  /** Left after pruning. */
  readonly kept: HistoryStats
  /** Deleted (or, in a dry run, that would be). */
  readonly pruned: HistoryStats
}

/** A checkpoint id as the API accepts it (anything else is a 400 or 404, never a key lookup). */
export const CHECKPOINT_ID = /^[0-9a-z]{9}[0-9a-f]{6}$/
/** Labels are for people: short, printable. */
export const MAX_LABEL_LENGTH = 200

export class CheckpointStore {
  private lastTime = 0

  /**
   * `database` is the instance's LevelDB (LevelDocStore.database), or a function returning it
   * once the store has opened it; this store only touches `h\0…`.
   */
  constructor(private readonly database: Level<string, Uint8Array> | (() => Level<string, Uint8Array>)) {}

  private get db(): Level<string, Uint8Array> {
    return typeof this.database === 'function' ? this.database() : this.database
  }

  /** Stores `state` as a new checkpoint of `docName`; resolves with its metadata. */
  async put(
    docName: string,
    state: Uint8Array,
    details: { users: Iterable<string>; label?: string | undefined; now?: number },
  ): Promise<CheckpointMeta> {
    assertDocName(docName)
    const now = details.now ?? Date.now()
    // Ids must sort in creation order even within one millisecond on this instance.
    this.lastTime = Math.max(now, this.lastTime + 1)
    const id = `${this.lastTime.toString(36).padStart(9, '0')}${randomBytes(3).toString('hex')}`
    const meta: CheckpointMeta = {
      id,
      at: new Date(now).toISOString(),
      bytes: state.byteLength,
      users: [...new Set(details.users)].sort(),
      ...(details.label !== undefined ? { label: details.label } : {}),
    }
    await this.db.batch([
      { type: 'put', key: `${statePrefix(docName)}${id}`, value: state },
      { type: 'put', key: `${metaPrefix(docName)}${id}`, value: Buffer.from(JSON.stringify(meta)) },
    ])
    return meta
  }

  /** Every checkpoint of `docName`, newest first (metadata only). */
  async list(docName: string): Promise<CheckpointMeta[]> {
    assertDocName(docName)
    const metas: CheckpointMeta[] = []
    for await (const value of this.db.values({ ...rangeOf(metaPrefix(docName)), reverse: true })) {
      metas.push(JSON.parse(Buffer.from(value).toString('utf8')) as CheckpointMeta)
    }
    return metas
  }

  async meta(docName: string, id: string): Promise<CheckpointMeta | undefined> {
    assertDocName(docName)
    if (!CHECKPOINT_ID.test(id)) return undefined
    const value = await this.db.get(`${metaPrefix(docName)}${id}`)
    return value ? (JSON.parse(Buffer.from(value).toString('utf8')) as CheckpointMeta) : undefined
  }

  /** The stored state of a checkpoint, or undefined when there is no such checkpoint. */
  async state(docName: string, id: string): Promise<Uint8Array | undefined> {
    assertDocName(docName)
    if (!CHECKPOINT_ID.test(id)) return undefined
    return (await this.db.get(`${statePrefix(docName)}${id}`)) ?? undefined
  }

  async stats(docName: string): Promise<HistoryStats> {
    let versions = 0
    let bytes = 0
    for (const meta of await this.list(docName)) {
      versions += 1
      bytes += meta.bytes
    }
    return { versions, bytes }
  }

  /**
   * Applies the retention rule (retention.ts) with `keep`; resolves with what was deleted.
   * LevelDB frees the disk space of deleted keys when it compacts that range: `freeDisk`
   * asks it to do so now (the CLI does; the server lets LevelDB's background compaction do it).
   */
  async prune(
    docName: string,
    keep: number,
    options: { freeDisk?: boolean; dryRun?: boolean } = {},
  ): Promise<HistoryStats> {
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError('keep must be a whole number ≥ 1')
    const metas = await this.list(docName)
    const drop = new Set(checkpointsToPrune(metas, keep))
    if (drop.size === 0) return { versions: 0, bytes: 0 }
    if (options.dryRun) {
      const bytes = metas.filter((meta) => drop.has(meta.id)).reduce((sum, meta) => sum + meta.bytes, 0)
      return { versions: drop.size, bytes }
    }
    let bytes = 0
    const ops: { type: 'del'; key: string }[] = []
    for (const meta of metas) {
      if (!drop.has(meta.id)) continue
      bytes += meta.bytes
      ops.push({ type: 'del', key: `${metaPrefix(docName)}${meta.id}` })
      ops.push({ type: 'del', key: `${statePrefix(docName)}${meta.id}` })
    }
    await this.db.batch(ops)
    if (options.freeDisk) await this.freeDisk(docName)
    return { versions: drop.size, bytes }
  }

  /** Prunes to `keep` (when given) and reports what is left: the compaction CLI's history pass. */
  async pruneAndMeasure(
    docName: string,
    keep: number | undefined,
    options: { freeDisk?: boolean; dryRun?: boolean } = {},
  ): Promise<HistoryPruneResult> {
    const before = await this.stats(docName)
    const pruned = keep === undefined ? { versions: 0, bytes: 0 } : await this.prune(docName, keep, options)
    return {
      kept: { versions: before.versions - pruned.versions, bytes: before.bytes - pruned.bytes },
      pruned,
    }
  }

  /** Deletes a doc's whole history (the doc was deleted). */
  async deleteDoc(docName: string): Promise<void> {
    assertDocName(docName)
    const range = { gte: `h${SEP}${docName}${SEP}`, lt: `h${SEP}${docName}\u0001` }
    await this.db.clear(range)
  }

  /** Has LevelDB rewrite the doc's history range now, so deleted checkpoints leave the disk. */
  async freeDisk(docName: string): Promise<void> {
    // `level` types the database for browsers too; on Node it is a ClassicLevel, which has it.
    const native = this.db as unknown as { compactRange?(start: string, end: string): Promise<void> }
    await native.compactRange?.(`h${SEP}${docName}${SEP}`, `h${SEP}${docName}\u0001`)
  }
}
