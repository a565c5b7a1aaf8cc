/**
 * The relay's write side: an outbox that turns everything published in one tick into one
 * batch of XADDs, and the two ways a batch reaches Redis, one per topology (create-relay.ts
 * picks one beside the matching StreamFollower):
 *
 *   PipelineAppender  one Redis: the whole batch as one pipeline (one round trip)
 *   ClusterAppender   Redis Cluster: one XADD per entry (a pipeline cannot span nodes; the
 *                     client's auto-pipelining still sends one batch per node), then the
 *                     stream's doorbell (SPUBLISH, same slot) once its appends have landed
 *
 * Each entry's owner (a room's sync, or nobody for control messages) hears whether its
 * append landed; a failed one may or may not have landed, so owners treat it as "Redis may
 * lack this" (a resync pushes the diff: idempotent).
 */
import { ClusterUnavailableError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { CommandGuard } from './command-guard.js'
import type { InstanceIdentity } from './instance-identity.js'
import type { RedisClient } from './redis-client.js'
import { notifyChannel } from './redis-keys.js'
import { type EntryKind, encodeEntryFields } from './stream-entry.js'

/** Told how its append went (`error` undefined: it landed). */
export interface AppendOwner {
  appended(kind: EntryKind, error: Error | undefined): void
}

export interface Append {
  readonly key: string
  readonly kind: EntryKind
  readonly data: Uint8Array
  readonly owner?: AppendOwner | undefined
  /** The doc's deletion generation the writing room joined under (stream-entry.ts `g`). */
  readonly generation?: number | undefined
}

/** Appends one batch; one result per entry, in order (null: it landed). */
export interface AppendStrategy {
  append(batch: readonly Append[]): Promise<(Error | null)[]>
}

/** What an append strategy is built from (the relay's command connection and settings). */
export interface AppenderContext {
  readonly command: RedisClient
  readonly guard: CommandGuard
  readonly identity: InstanceIdentity
  /** Control stream length cap (approximate). */
  readonly controlMaxLen: number
  readonly metrics: Metrics
  readonly logger: Logger
}

function xaddArgs(context: AppenderContext, item: Append): (string | Buffer | number)[] {
  const fields = encodeEntryFields(
    context.identity.label,
    item.kind,
    item.data,
    context.identity.nonce,
    item.generation,
  )
  return item.kind === 'c'
    ? [item.key, 'MAXLEN', '~', context.controlMaxLen, '*', ...fields]
    : [item.key, '*', ...fields]
}

export class PipelineAppender implements AppendStrategy {
  constructor(private readonly context: AppenderContext) {}

  async append(batch: readonly Append[]): Promise<(Error | null)[]> {
    const pipeline = this.context.command.pipeline()
    for (const item of batch) pipeline.call('XADD', ...xaddArgs(this.context, item))
    let results: [Error | null, unknown][]
    try {
      results = (await this.context.guard.run('xadd', () => pipeline.exec())) ?? []
    } catch (error) {
      return batch.map(() => asError(error))
    }
    return batch.map(
      (_, index) => results[index]?.[0] ?? (results[index] ? null : new ClusterUnavailableError('no reply')),
    )
  }
}

/**
 * A bell never precedes its entry, even when a MOVED/ASK redirect delayed the XADD. A bell
 * that fails is only logged: readers find the entry by their sweep.
 */
export class ClusterAppender implements AppendStrategy {
  constructor(private readonly context: AppenderContext) {}

  async append(batch: readonly Append[]): Promise<(Error | null)[]> {
    const { command, guard } = this.context
    const settled = await Promise.allSettled(
      batch.map((item) => guard.run('xadd', () => command.call('XADD', ...xaddArgs(this.context, item)))),
    )
    const ring = new Set<string>()
    batch.forEach((item, index) => {
      if (settled[index]!.status === 'fulfilled') ring.add(item.key)
    })
    for (const key of ring) {
      command.spublish(notifyChannel(key), this.context.identity.nonce).catch((error: unknown) => {
        this.context.metrics.relayErrors.inc({ op: 'notify' })
        this.context.logger.debug(
          { err: error, stream: key },
          'SPUBLISH failed; readers catch up by their sweep',
        )
      })
    }
    return settled.map((result) => (result.status === 'fulfilled' ? null : asError(result.reason)))
  }
}

export interface StreamWriterOptions {
  readonly strategy: AppendStrategy
  readonly metrics: Metrics
  /** Reports a failed append or batch (counted and logged by the relay). */
  readonly onError: (op: string, error: unknown) => void
}

/** The outbox: batches per tick, appends batches one after another (entries stay in order). */
export class StreamWriter {
  private outbox: Append[] = []
  private scheduled = false
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly options: StreamWriterOptions) {}

  enqueue(item: Append): void {
    this.outbox.push(item)
    if (this.scheduled) return
    this.scheduled = true
    // Everything published in this tick goes out as one batch.
    setImmediate(() => {
      this.scheduled = false
      // A flush that threw must not leave the chain rejected (later flushes would never run).
      this.flushing = this.flushing
        .then(() => this.flush())
        .catch((error: unknown) => this.options.onError('flush', error))
    })
  }

  /** Resolves once everything enqueued before this call (this tick included) was appended. */
  async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve))
    await this.flushing
  }

  /** Appends what is queued right now (closing: nothing waits for the next tick). */
  async flush(): Promise<void> {
    const batch = this.outbox
    this.outbox = []
    if (batch.length === 0) return
    const results = await this.options.strategy.append(batch)
    batch.forEach((item, index) => {
      const error = results[index] ?? undefined
      if (error) this.options.onError('xadd', error)
      else this.options.metrics.relayPublished.inc({ kind: item.kind })
      item.owner?.appended(item.kind, error)
    })
  }
}

/** ioredis rejects with Errors; anything else thrown is wrapped so it can be logged and counted. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new ClusterUnavailableError(String(reason))
}
