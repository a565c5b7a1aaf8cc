/**
 * The one blocking reader of an instance: a single connection running multi-stream
 * `XREAD BLOCK` over every stream this instance follows (each open doc, plus the control
 * stream), so the number of Redis connections does not grow with the number of rooms.
 *
 *   loop: (recover if the connection was lost) -> XREAD COUNT n BLOCK b STREAMS k... id...
 *         -> hand each stream's entries to its handler -> repeat
 *
 * Following a new stream or moving a position wakes the blocked XREAD with CLIENT UNBLOCK
 * (sent on the command connection). If that races ahead of the XREAD it is a no-op, so BLOCK
 * stays short (1 s): callers do their own catch-up read first, so nothing waits on that.
 * A handler failing affects only its own stream: the error is reported and the loop goes on.
 */

import type { Redis } from 'ioredis'
import type { Logger } from '../observability/logger.js'
import { ConnectionLostError } from './command-guard.js'
import { DeadlineError, withDeadline } from './deadline.js'
import type { RawEntry } from './redis-doc-state.js'
import { StallWatch } from './stall-watch.js'
import type { EntryHandler, FollowerHooks, StreamFollower } from './stream-follower.js'

interface Follow {
  lastId: string
  /** Bumped when the position is moved, so a reply to an older XREAD is ignored. */
  generation: number
  readonly handler: EntryHandler
}

export interface StreamReaderOptions extends FollowerHooks {
  readonly blockMs: number
  readonly count: number
  readonly logger: Logger
  /** onStall is called when one loop iteration took longer than this. */
  readonly stallMs: number
}

export class StreamReader implements StreamFollower {
  private readonly follows = new Map<string, Follow>()
  private readonly abort = new AbortController()
  private running: Promise<void> | undefined
  private clientId: number | undefined
  private blocked = false
  private wakeIdle: (() => void) | undefined
  private needsRecovery = false
  /** Rejects the XREAD in flight (set while one is). */
  private abortRead: ((error: Error) => void) | undefined

  constructor(
    private readonly reader: Redis,
    private readonly waker: Redis,
    private readonly options: StreamReaderOptions,
  ) {
    // The connection id changes on every reconnect; CLIENT UNBLOCK needs the current one.
    reader.on('close', () => {
      this.clientId = undefined
      this.needsRecovery = true
      // ioredis drops a command in flight on reconnect without settling it: fail it now
      // instead of waiting out the read deadline.
      this.abortRead?.(new ConnectionLostError('reader connection closed during XREAD'))
    })
  }

  start(): void {
    this.running ??= this.loop(this.abort.signal)
  }

  /** Follows `key` from `afterId` (exclusive), replacing any earlier position. */
  follow(key: string, afterId: string, handler: EntryHandler): void {
    const existing = this.follows.get(key)
    this.follows.set(key, { lastId: afterId, generation: (existing?.generation ?? 0) + 1, handler })
    this.wake()
  }

  unfollow(key: string): void {
    this.follows.delete(key)
  }

  isFollowing(key: string): boolean {
    return this.follows.has(key)
  }

  position(key: string): string | undefined {
    return this.follows.get(key)?.lastId
  }

  private wake(): void {
    if (this.wakeIdle) {
      this.wakeIdle()
      return
    }
    if (this.blocked && this.clientId !== undefined) {
      this.waker.client('UNBLOCK', this.clientId).catch((error: unknown) => {
        // Harmless: the XREAD returns by itself within BLOCK ms.
        this.options.logger.debug({ err: error }, 'CLIENT UNBLOCK failed')
      })
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const stalls = new StallWatch(this.options.stallMs, performance.now())
    while (!signal.aborted) {
      if (this.needsRecovery || this.reader.status !== 'ready') {
        if (!(await this.recover(signal))) continue
        stalls.restart(performance.now())
      }
      if (this.follows.size === 0) {
        await new Promise<void>((resolve) => {
          this.wakeIdle = resolve
          signal.addEventListener('abort', () => resolve(), { once: true })
        })
        this.wakeIdle = undefined
        continue
      }
      const keys = [...this.follows.keys()]
      const asked = keys.map((key) => this.follows.get(key)!)
      const generations = asked.map((follow) => follow.generation)
      let reply: [Buffer, RawEntry[]][] | null
      try {
        // A command in flight when Redis went away can be left unanswered by ioredis after
        // the reconnect (seen in the Redis-restart test: one instance's reader never
        // returned and that instance missed every later entry). BLOCK bounds a healthy
        // XREAD, so anything much slower means the connection must be reset.
        const lost = new Promise<never>((_, reject) => {
          this.abortRead = reject
        })
        reply = await withDeadline(
          Promise.race([
            lost,
            (async () => {
              this.clientId ??= Number(await this.reader.client('ID'))
              this.blocked = true
              return (await this.reader.xreadBuffer(
                'COUNT',
                this.options.count,
                'BLOCK',
                this.options.blockMs,
                'STREAMS',
                ...keys,
                ...asked.map((follow) => follow.lastId),
              )) as [Buffer, RawEntry[]][] | null
            })(),
          ]),
          this.options.blockMs + READ_DEADLINE_MARGIN_MS,
          'XREAD',
        )
      } catch (error) {
        if (signal.aborted) break
        this.options.onError(error)
        if (error instanceof DeadlineError) {
          this.options.logger.warn('XREAD did not return in time; resetting the reader connection')
          this.clientId = undefined
          this.reader.disconnect(true)
        }
        this.needsRecovery = true
        continue
      } finally {
        this.blocked = false
        this.abortRead = undefined
      }
      const stall = stalls.turn(performance.now())
      if (stall) this.options.onStall(stall)
      for (const [keyBuffer, entries] of reply ?? []) {
        const key = keyBuffer.toString()
        const index = keys.indexOf(key)
        const follow = this.follows.get(key)
        // Unfollowed or repositioned while we waited: this reply is stale for it.
        if (!follow || index < 0 || follow.generation !== generations[index] || entries.length === 0) continue
        follow.lastId = entries.at(-1)![0].toString()
        try {
          follow.handler(entries)
        } catch (error) {
          this.options.logger.error({ stream: key, err: error }, 'stream handler failed')
        }
      }
    }
  }

  /** Waits for the connection, then lets the owner catch up before reading resumes. */
  private async recover(signal: AbortSignal): Promise<boolean> {
    if (this.reader.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.reader.off('ready', done)
          resolve()
        }
        this.reader.once('ready', done)
        signal.addEventListener('abort', done, { once: true })
      })
      if (signal.aborted) return false
    }
    try {
      await this.options.onReconnected()
      this.needsRecovery = false
      return true
    } catch (error) {
      this.options.onError(error)
      // Redis answered ready but the catch-up failed: back off a little, then retry.
      await new Promise((resolve) => setTimeout(resolve, 200))
      return false
    }
  }

  async close(): Promise<void> {
    this.abort.abort()
    this.wake()
    this.wakeIdle?.()
    this.reader.disconnect()
    await this.running?.catch((error: unknown) =>
      this.options.logger.error({ err: error }, 'reader loop failed'),
    )
  }
}

/** Past BLOCK, how long an XREAD may take before the reader connection counts as stuck. */
const READ_DEADLINE_MARGIN_MS = 4000
