/**
 * The cluster-wide control channel: operator actions (revoke, evict, delete) that every
 * instance must act on travel as kind `c` entries on one stream, `<prefix>:control`
 * (capped, see tuning.controlMaxLen). An instance follows it from its tail as it was when
 * the instance (re)connected: control messages are "now" events, never replayed history.
 * Messages are encoded and checked by control-codec.ts; our own (by nonce, see
 * instance-identity.ts) are skipped (the sender acts on its own action directly).
 */
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { CommandGuard } from './command-guard.js'
import { decodeControl, encodeControl } from './control-codec.js'
import type { InstanceIdentity } from './instance-identity.js'
import type { RedisClient } from './redis-client.js'
import type { RawEntry } from './redis-doc-state.js'
import type { ControlMessage } from './relay.js'
import { decodeEntry, ZERO_ID } from './stream-entry.js'
import type { StreamFollower } from './stream-follower.js'
import type { StreamWriter } from './stream-writer.js'

export interface ControlChannelOptions {
  readonly key: string
  readonly identity: InstanceIdentity
  readonly command: RedisClient
  readonly guard: CommandGuard
  readonly follower: StreamFollower
  readonly writer: StreamWriter
  readonly metrics: Metrics
  readonly logger: Logger
}

export class ControlChannel {
  private readonly handlers: ((message: ControlMessage) => void)[] = []
  private following: Promise<void> | undefined

  constructor(private readonly options: ControlChannelOptions) {}

  /** Appends `message` (the caller drops it while Redis is away: best effort). */
  broadcast(message: ControlMessage): void {
    this.options.writer.enqueue({ key: this.options.key, kind: 'c', data: encodeControl(message) })
  }

  onMessage(handler: (message: ControlMessage) => void): void {
    this.handlers.push(handler)
  }

  /**
   * Starts following the stream from its current tail (once; again after a reader reset).
   * Single-flight: two overlapping calls must not follow twice (the second, later tail would
   * drop what arrived between the two).
   */
  follow(): Promise<void> {
    const { key, follower, guard, command } = this.options
    if (follower.isFollowing(key)) return Promise.resolve()
    this.following ??= (async () => {
      const last = (await guard.run('control-tail', () => command.xrevrange(key, '+', '-', 'COUNT', 1)))[0]
      follower.follow(key, last ? last[0] : ZERO_ID, (entries) => this.onEntries(entries))
    })().finally(() => {
      this.following = undefined
    })
    return this.following
  }

  private onEntries(entries: readonly RawEntry[]): void {
    for (const [id, fields] of entries) {
      const decoded = decodeEntry(fields)
      if (!decoded.ok || this.options.identity.isOwn(decoded.entry)) continue
      const message = decodeControl(decoded.entry.data)
      if (!message) {
        this.options.metrics.relayErrors.inc({ op: 'bad-control' })
        this.options.logger.warn({ id: id.toString() }, 'ignored a malformed control message')
        continue
      }
      this.options.logger.info(
        { control: message, from: decoded.entry.instanceId },
        'control message from the cluster',
      )
      for (const handler of this.handlers) handler(message)
    }
  }
}
