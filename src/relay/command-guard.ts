/**
 * Every call the relay makes on its command connection (XADD pipelines, doc-state reads, gap
 * probes, run ids, compaction) goes through `CommandGuard.run`, so none can hang the relay:
 *
 *  - a deadline (`timeoutMs`): no reply in time -> DeadlineError;
 *  - the connection closed while the call was in flight -> ConnectionLostError at once
 *    (ioredis discards such a command on reconnect without settling its promise);
 *  - after a deadline the connection is presumed dead (a silently forgotten TCP connection
 *    never errors): the guard reports itself unhealthy and forces a reconnect. A fresh
 *    `ready` (ioredis answered its ready check) makes it healthy again.
 *
 * Callers treat any rejection like a failed write: the room is marked for resync.
 */
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { DeadlineError, withDeadline } from './deadline.js'
import type { RedisClient } from './redis-client.js'

/** The command connection closed while a call waited for its reply. */
export class ConnectionLostError extends Error {
  override name = 'ConnectionLostError'
}

export interface CommandGuardOptions {
  readonly timeoutMs: number
  readonly logger: Logger
  readonly metrics: Metrics
  /** Called when `healthy` changes (the relay recomputes `connected`). */
  readonly onHealthChange: () => void
}

export class CommandGuard {
  private readonly inFlight = new Set<(error: Error) => void>()
  private healthyNow = true

  constructor(
    readonly client: RedisClient,
    private readonly options: CommandGuardOptions,
  ) {
    client.on('close', () => {
      const fail = [...this.inFlight]
      this.inFlight.clear()
      for (const reject of fail) reject(new ConnectionLostError('Redis connection closed before the reply'))
    })
    // Registered before the relay's own 'ready' listener, so it sees the healthy state.
    client.on('ready', () => this.setHealthy(true))
  }

  /** false from a deadline until the connection is ready again. */
  get healthy(): boolean {
    return this.healthyNow
  }

  /** Runs one call (or a pipeline/MULTI) under the deadline; `op` names it in metrics/logs. */
  async run<T>(op: string, work: () => Promise<T>): Promise<T> {
    let rejectLost: ((error: Error) => void) | undefined
    const lost = new Promise<never>((_, reject) => {
      rejectLost = reject
    })
    this.inFlight.add(rejectLost!)
    const call = work()
    call.catch(() => undefined)
    try {
      return await withDeadline(Promise.race([call, lost]), this.options.timeoutMs, op)
    } catch (error) {
      if (isTimeout(error)) this.onDeadline(op)
      throw error
    } finally {
      this.inFlight.delete(rejectLost!)
    }
  }

  private onDeadline(op: string): void {
    this.options.metrics.relayTimeouts.inc({ op })
    if (!this.healthyNow) return
    this.options.logger.warn(
      { op, timeoutMs: this.options.timeoutMs },
      'Redis did not answer in time; reconnecting the command connection',
    )
    this.setHealthy(false)
    // A connection nobody answers on is not closed by anyone else: replace it.
    this.client.disconnect(true)
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.healthyNow) return
    this.healthyNow = healthy
    this.options.onHealthChange()
  }
}

/** Ours, or ioredis's own per-command timeout (create-relay.ts sets one a little longer). */
function isTimeout(error: unknown): boolean {
  return error instanceof DeadlineError || (error instanceof Error && error.message === 'Command timed out')
}
