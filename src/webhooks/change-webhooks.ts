/**
 * Change webhooks, built on the hook surface (src/hooks.ts): `hooks.onChange` and
 * `hooks.onDeleteDocument` feed it; it owns the rest.
 *
 *   onChange (not relayed) -> ChangeRecorder -> WindowBoard (memory, or Redis for a cluster)
 *   tick: claim due windows -> Outbox (LevelDB, synced) -> release the claim
 *         due outbox entries -> WebhookSender (signed POST) -> remove, or reschedule
 *   onDeleteDocument -> drop the doc's window -> a document.deleted entry in the Outbox
 *
 * Exactly one event per doc and window across the cluster comes from the board's atomic
 * claim; at-least-once delivery from the outbox (an entry leaves it only after a 2xx).
 */

import type { Config } from '../config/config.js'
import { ConfigError } from '../errors.js'
import type { ChangeOrigin, Hooks, HookUser } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import type { RedisClient } from '../relay/redis-client.js'
import type { LevelDocStore } from '../storage/level-doc-store.js'
import { ChangeRecorder } from './change-recorder.js'
import { Outbox, type OutboxEntry } from './outbox.js'
import { createWebhookRedis, RedisWindowBoard } from './redis-window-board.js'
import { retryDelayMs, shouldGiveUp } from './retry-schedule.js'
import { WebhookSender } from './sender.js'
import { type ClosedWindow, changedBody, deletedBody, type WebhookBody } from './webhook-event.js'
import type { WebhookMetrics } from './webhook-metrics.js'
import { LocalWindowBoard, newMessageId, type WindowBoard } from './window-board.js'

/** Deliveries in flight at once, over all endpoints. */
const MAX_IN_FLIGHT = 8
/** Windows claimed per tick (the rest wait for the next tick). */
const CLAIMS_PER_TICK = 32
/** On shutdown, in-flight attempts get this long; unfinished ones are retried after restart. */
const CLOSE_GRACE_MS = 1000
/** The same failure is logged at most this often (every one is counted). */
const LOG_EVERY_MS = 10_000

export interface ChangeWebhooksDeps {
  readonly config: Config
  readonly store: LevelDocStore
  readonly logger: Logger
  /** Registered by the app whether or not webhooks are on (alerts refer to them). */
  readonly metrics: WebhookMetrics
  /** The doc's state vector on this instance, if it is open here. */
  readonly stateVector: (doc: string) => Uint8Array | undefined
}

export class ChangeWebhooks {
  readonly hooks: Hooks
  private readonly urls: readonly string[]
  private readonly redis: RedisClient | undefined
  private readonly board: WindowBoard
  private readonly recorder: ChangeRecorder
  private readonly outbox: Outbox
  private readonly sender: WebhookSender
  private readonly metrics: WebhookMetrics
  private readonly logger: Logger
  private readonly tickMs: number
  private readonly inFlight = new Map<string, Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private ticking: Promise<void> | undefined
  private closed = false
  private readonly lastLogged = new Map<string, number>()

  constructor(private readonly deps: ChangeWebhooksDeps) {
    const { config } = deps
    if (!config.webhookUrls || !config.webhookSecret)
      throw new ConfigError('change webhooks need WEBHOOK_URL and WEBHOOK_SECRET')
    this.urls = config.webhookUrls
    this.logger = deps.logger.child({ component: 'webhooks' })
    this.metrics = deps.metrics
    const timing = { debounceMs: config.webhookDebounceMs, maxWaitMs: config.webhookMaxWaitMs }
    this.redis = createWebhookRedis(config)
    this.board = this.redis
      ? new RedisWindowBoard({
          client: this.redis,
          prefix: config.redisPrefix,
          instanceId: config.instanceId,
          timing,
        })
      : new LocalWindowBoard(timing)
    this.recorder = new ChangeRecorder(
      this.board,
      (doc) => {
        const vector = deps.stateVector(doc)
        return vector ? Buffer.from(vector).toString('base64') : undefined
      },
      (error) => {
        this.metrics.recordErrors.inc()
        this.warnSometimes('record', { err: error }, 'recording changes for webhooks failed; retrying')
      },
    )
    this.outbox = new Outbox(deps.store.sideTable('webhook-outbox'))
    this.sender = new WebhookSender(config.webhookSecret, config.webhookTimeoutMs)
    // A quarter of the debounce keeps the close-to-delivery delay small against the window.
    this.tickMs = Math.min(250, Math.max(20, Math.floor(config.webhookDebounceMs / 4)))
    this.hooks = {
      onChange: ({ docName, origin }) => this.noteChange(docName, origin),
      onDeleteDocument: ({ docName, user }) => this.noteDelete(docName, user),
    }
  }

  /** After the store is open: loads what a previous run still owes, then starts ticking. */
  async start(): Promise<void> {
    if (this.redis) {
      this.redis.connect().catch((error: unknown) => {
        this.warnSometimes('redis', { err: error }, 'webhooks: Redis not reachable yet; retrying')
      })
    }
    const loaded = await this.outbox.load()
    for (const entry of this.outbox.due(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, new Set())) {
      if (this.urls.includes(entry.url)) continue
      // WEBHOOK_URL changed since the event: its old endpoint is no longer ours to call.
      await this.outbox.remove(entry.key)
      this.metrics.deliveries.inc({ result: 'dropped' })
      this.logger.warn(
        { id: entry.id, endpoint: endpointName(entry.url) },
        'webhook dropped: endpoint no longer in WEBHOOK_URL',
      )
    }
    if (loaded > 0) this.logger.info({ pending: this.outbox.size }, 'webhook outbox loaded; delivering')
    this.updateGauges()
    this.schedule()
  }

  private noteChange(doc: string, origin: ChangeOrigin): void {
    // The instance that accepted a change records it; relayed copies would count it twice.
    if (origin.kind === 'relay' || this.closed) return
    this.recorder.note(doc, origin.user?.id)
  }

  private async noteDelete(doc: string, user: HookUser | undefined): Promise<void> {
    this.recorder.forget(doc)
    await this.board.discard(doc).catch((error: unknown) => {
      this.warnSometimes(
        'discard',
        { err: error, doc },
        'could not drop the deleted doc’s open webhook window',
      )
    })
    const now = Date.now()
    await this.enqueue(newMessageId(), deletedBody(doc, user?.id ?? 'admin', now), now)
  }

  private schedule(): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined
        this.schedule()
      })
    }, this.tickMs)
  }

  private async tick(): Promise<void> {
    try {
      await this.recorder.write()
      const windows = await this.board.claimDue(CLAIMS_PER_TICK)
      for (const window of windows) await this.persist(window)
    } catch (error) {
      this.metrics.recordErrors.inc()
      this.warnSometimes('claim', { err: error }, 'claiming webhook windows failed; retrying')
    }
    this.deliverDue()
    this.updateGauges()
  }

  /** Outbox first, then release: a crash between the two re-delivers (same id), never loses. */
  private async persist(window: ClosedWindow): Promise<void> {
    await this.enqueue(window.id, changedBody(window), window.closedAt)
    await this.board.release(window)
    this.metrics.windowsClaimed.inc()
  }

  private async enqueue(id: string, body: WebhookBody, createdAt: number): Promise<void> {
    const json = JSON.stringify(body)
    for (const [index, url] of this.urls.entries()) {
      await this.outbox.put({
        key: `${id}:${index}`,
        id,
        url,
        body: json,
        createdAt,
        attempts: 0,
        nextAttemptAt: 0,
      })
    }
    this.updateGauges()
  }

  private deliverDue(): void {
    if (this.closed) return
    const room = MAX_IN_FLIGHT - this.inFlight.size
    if (room <= 0) return
    for (const entry of this.outbox.due(Date.now(), room, new Set(this.inFlight.keys()))) {
      const attempt = this.attempt(entry).finally(() => this.inFlight.delete(entry.key))
      this.inFlight.set(entry.key, attempt)
    }
  }

  private async attempt(entry: OutboxEntry): Promise<void> {
    const outcome = await this.sender.send(entry.url, entry.id, entry.body)
    const now = Date.now()
    try {
      if (outcome.result === 'ok') {
        await this.outbox.remove(entry.key)
        this.metrics.deliveries.inc({ result: 'ok' })
        this.metrics.latency.observe(Math.max(0, now - entry.createdAt) / 1000)
        this.logger.debug(
          { id: entry.id, endpoint: endpointName(entry.url), attempts: entry.attempts + 1 },
          'webhook delivered',
        )
        return
      }
      this.metrics.deliveries.inc({ result: outcome.result })
      const failures = entry.attempts + 1
      const log = { id: entry.id, endpoint: endpointName(entry.url), attempts: failures, ...outcome }
      if (shouldGiveUp(entry.createdAt, now)) {
        await this.outbox.remove(entry.key)
        this.metrics.deliveries.inc({ result: 'gave-up' })
        this.logger.error(log, 'webhook given up after 24 h of failed deliveries')
        return
      }
      const delay = retryDelayMs(failures, this.deps.config.webhookRetryMinMs)
      await this.outbox.put({ ...entry, attempts: failures, nextAttemptAt: now + delay })
      this.logger.warn({ ...log, retryInMs: delay }, 'webhook delivery failed; will retry')
    } catch (error) {
      // The outbox write failed (store closing): the entry keeps its old state on disk and
      // is attempted again after the restart.
      this.logger.error({ err: error, id: entry.id }, 'webhook outbox update failed')
    } finally {
      this.updateGauges()
    }
  }

  private updateGauges(): void {
    this.metrics.outboxSize.set(this.outbox.size)
    const oldest = this.outbox.oldestCreatedAt()
    this.metrics.oldestPendingSeconds.set(oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) / 1000)
  }

  private warnSometimes(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now()
    if (now - (this.lastLogged.get(kind) ?? Number.NEGATIVE_INFINITY) < LOG_EVERY_MS) return
    this.lastLogged.set(kind, now)
    this.logger.warn(fields, message)
  }

  /**
   * Before the store closes: stops ticking, gives in-flight attempts a moment, then hands
   * what is still open to durable places — recorded changes to Redis (another instance
   * delivers), or, standalone, every open window to the outbox (delivered after restart).
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    await this.ticking
    await Promise.race([
      Promise.allSettled(this.inFlight.values()),
      new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
    ])
    try {
      await this.recorder.write()
      if (this.board instanceof LocalWindowBoard) {
        for (const window of this.board.claimAll()) await this.persist(window)
      }
    } catch (error) {
      this.logger.error({ err: error }, 'webhooks: open windows could not be saved at shutdown')
    }
    await this.board.close()
    this.redis?.disconnect()
  }
}

/** Scheme, host and port of an endpoint: enough for logs, without paths or query secrets. */
function endpointName(url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}`
}
