/**
 * Version history of the documents on this instance: checkpoints (scheduled, on demand,
 * before every restore), listing, fetching and restoring. Composes the checkpoint store,
 * the recorder (when/who) and the rooms (the live documents).
 *
 * A restore is a forward change applied through the room like any edit — stored, sent to
 * every connected editor, relayed to the other instances — so nothing of the history is
 * rewritten and no client has to reload (restore-update.ts has the technique).
 *
 * Operations on one doc run one after another (a per-doc promise chain): two restores, or a
 * restore and a checkpoint, never interleave their read-modify-write.
 */

import { BadLabelError, NoSuchDocError, NoSuchVersionError, noSuchDocMessage } from '../errors.js'
import type { ChangeOrigin } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import {
  type CheckpointMeta,
  type CheckpointStore,
  type HistoryPruneResult,
  MAX_LABEL_LENGTH,
} from './checkpoint-store.js'
import { HistoryRecorder } from './history-recorder.js'
import { restoreUpdate } from './restore-update.js'

/** What history needs of a live document. */
export interface HistoryRoom {
  /** The full current state as one update. */
  encodeState(): Uint8Array
  /**
   * The state for a checkpoint, where it can come without a stall: a doc in the big-doc
   * worker is encoded there (encodeState merges it on the event loop, the doc's size in Yjs
   * CPU). It may hold a few updates more than at the call. Absent: encodeState.
   */
  checkpointState?(): Promise<Uint8Array>
  /** Applies an update as a change of this server: stored, broadcast, relayed. */
  applyServerUpdate(update: Uint8Array, origin: ChangeOrigin): void
}

/** Opens a doc's room for the duration of `use` (loading it, and catching up with the cluster, if needed). */
export type WithRoom = <T>(docName: string, use: (room: HistoryRoom) => Promise<T> | T) => Promise<T>

export interface HistoryServiceOptions {
  readonly store: CheckpointStore
  readonly withRoom: WithRoom
  /**
   * Whether any part of the cluster holds the doc, found without opening a room. Asked
   * before a checkpoint opens one: an unknown doc must not be left loaded (empty, listed,
   * served) until ROOM_IDLE_MS by a request that answers 404. Absent: not asked.
   */
  readonly exists?: (docName: string) => Promise<boolean>
  /** HISTORY_INTERVAL_MS (0: no automatic checkpoints). */
  readonly intervalMs: number
  /** HISTORY_KEEP. */
  readonly keep: number
  readonly logger: Logger
  /** Called after every checkpoint and restore, for metrics. */
  readonly observer?: {
    onCheckpoint?(reason: CheckpointReason, bytes: number): void
    onRestore?(seconds: number): void
    onError?(operation: string): void
  }
}

export type CheckpointReason = 'scheduled' | 'manual' | 'backup'

/** Unknown doc or version (404), bad label (400): catalogued in errors.ts. */
export { BadLabelError, NoSuchDocError, NoSuchVersionError }

/** An update with no structs and no deletions: a doc nobody ever wrote. */
const EMPTY_STATE_BYTES = 2

export class HistoryService {
  readonly recorder: HistoryRecorder
  private readonly chains = new Map<string, Promise<unknown>>()

  constructor(private readonly options: HistoryServiceOptions) {
    this.recorder = new HistoryRecorder({
      intervalMs: options.intervalMs,
      checkpoint: (docName) =>
        this.checkpoint(docName, { reason: 'scheduled' }).catch((error: unknown) => {
          // The doc was deleted meanwhile, or storage failed: the next change restarts the clock.
          options.observer?.onError?.('checkpoint')
          options.logger.error({ doc: docName, err: error }, 'scheduled checkpoint failed')
        }),
    })
  }

  /** The built-in hook: every accepted change feeds the recorder. */
  readonly onChange = (context: { docName: string; origin: ChangeOrigin }): void => {
    this.recorder.noteChange(context.docName, context.origin)
  }

  /** Versions of `docName`, newest first. */
  list(docName: string): Promise<CheckpointMeta[]> {
    return this.options.store.list(docName)
  }

  /** A version's metadata and state, or undefined. */
  async version(
    docName: string,
    id: string,
  ): Promise<{ meta: CheckpointMeta; state: Uint8Array } | undefined> {
    const [meta, state] = await Promise.all([
      this.options.store.meta(docName, id),
      this.options.store.state(docName, id),
    ])
    return meta && state ? { meta, state } : undefined
  }

  /** Takes a checkpoint of the doc's current state now. Throws NoSuchDocError, BadLabelError. */
  checkpoint(
    docName: string,
    { label, reason = 'manual' }: { label?: unknown; reason?: CheckpointReason } = {},
  ): Promise<CheckpointMeta> {
    const problem = labelProblem(label)
    if (problem) return Promise.reject(new BadLabelError(problem))
    return this.serially(docName, async () => {
      if (this.options.exists && !(await this.options.exists(docName))) {
        throw new NoSuchDocError(noSuchDocMessage(docName))
      }
      return this.options.withRoom(docName, async (room) => {
        const state = room.checkpointState ? await room.checkpointState() : room.encodeState()
        if (state.byteLength <= EMPTY_STATE_BYTES) throw new NoSuchDocError(noSuchDocMessage(docName))
        return this.store(docName, state, reason, label as string | undefined)
      })
    })
  }

  /**
   * Makes the doc's content the version's, as a new change. A checkpoint of the state
   * before it is taken first; if that fails, nothing is changed.
   */
  restore(docName: string, id: string): Promise<{ restored: string; backup: string }> {
    return this.serially(docName, async () => {
      const version = await this.options.store.state(docName, id)
      if (!version) throw new NoSuchVersionError(`no version ${id} of ${docName}`)
      return this.options.withRoom(docName, async (room) => {
        const started = performance.now()
        const current = room.encodeState()
        // Computed before the backup so a version that cannot be restored changes nothing.
        const forward = restoreUpdate(current, version)
        const backup = await this.store(docName, current, 'backup', `before restore of ${id}`)
        room.applyServerUpdate(forward, { kind: 'api' })
        this.options.observer?.onRestore?.((performance.now() - started) / 1000)
        this.options.logger.info(
          { doc: docName, version: id, backup: backup.id, updateBytes: forward.byteLength },
          'version restored',
        )
        return { restored: id, backup: backup.id }
      })
    })
  }

  /** HISTORY_KEEP on demand (the compaction CLI's `--history-keep`): prunes and reports. */
  prune(docName: string, keep: number | undefined, dryRun: boolean): Promise<HistoryPruneResult> {
    return this.serially(docName, () =>
      this.options.store.pruneAndMeasure(docName, keep, { dryRun, freeDisk: !dryRun && keep !== undefined }),
    )
  }

  close(): void {
    this.recorder.close()
  }

  private async store(
    docName: string,
    state: Uint8Array,
    reason: CheckpointReason,
    label: string | undefined,
  ): Promise<CheckpointMeta> {
    const users = this.recorder.take(docName)
    const meta = await this.options.store.put(docName, state, { users, label })
    this.options.observer?.onCheckpoint?.(reason, meta.bytes)
    const pruned = await this.options.store.prune(docName, this.options.keep)
    this.options.logger.debug(
      { doc: docName, id: meta.id, reason, bytes: meta.bytes, pruned },
      'checkpoint taken',
    )
    return meta
  }

  private serially<T>(docName: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(docName) ?? Promise.resolve()
    const next = previous.then(task, task)
    const settled = next.catch(() => undefined)
    this.chains.set(docName, settled)
    void settled.then(() => {
      if (this.chains.get(docName) === settled) this.chains.delete(docName)
    })
    return next
  }
}

/** Why `label` cannot label a checkpoint, or undefined when it can (absent is fine). */
export function labelProblem(label: unknown): string | undefined {
  if (label === undefined) return undefined
  if (typeof label !== 'string' || label.trim() === '') return 'label must be a non-empty string'
  if (label.length > MAX_LABEL_LENGTH) return `label must be at most ${MAX_LABEL_LENGTH} characters`
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(label)) return 'label must not contain control characters'
  return undefined
}
