/**
 * The hook sets of a server and the room callbacks that call them. Built-in features that
 * react to documents are hook sets of the user's shape and run first, in this order: change
 * webhooks (when WEBHOOK_URLS is set), version history, then the user's sets. From them:
 *
 *   room accepted a change --> onChange (when any set has it)
 *                         \--> StoredNotifier --(flush, debounce)--> onStoreDocument
 *   room loaded           --> onLoadDocument on a copy (awaited: a throw fails the load and
 *                             changes nothing; else its writes join the room, seed-aside.ts)
 *   room unloading        --> StoredNotifier reports the doc's last state
 *
 * Hooks nobody defined cost nothing: no notifier, no callback is installed.
 */
import type { Config } from './config/config.js'
import { historyForApp } from './history/history-for-app.js'
import type { HistoryService } from './history/history-service.js'
import { HookRunner } from './hook-runner.js'
import type { Hooks } from './hooks.js'
import type { Logger } from './observability/logger.js'
import type { Metrics } from './observability/metrics.js'
import type { Room, RoomChange } from './room/room.js'
import type { RoomRegistry } from './room/room-registry.js'
import { seedAside } from './room/seed-aside.js'
import { StoredNotifier } from './room/stored-notifier.js'
import type { LevelDocStore } from './storage/level-doc-store.js'
import { ChangeWebhooks } from './webhooks/change-webhooks.js'
import { WebhookMetrics } from './webhooks/webhook-metrics.js'

export interface HookWiringParts {
  readonly config: Config
  readonly store: LevelDocStore
  /** Resolved lazily: the registry is built with the callbacks returned here. */
  readonly registry: () => RoomRegistry
  /** Whether any part of the cluster holds the doc, without opening a room (lazily resolved too). */
  readonly docExists: (docName: string) => Promise<boolean>
  readonly logger: Logger
  readonly metrics: Metrics
  /** The user's hook sets (after the built-in ones). */
  readonly hooks: readonly Hooks[]
  /** `onStoreDocument` this long after a doc's last change (default 2000 ms)... */
  readonly storeDebounceMs?: number
  /** ...or this long after its first unreported change (default 10000 ms). */
  readonly storeMaxWaitMs?: number
}

export interface HookWiring {
  readonly hooks: HookRunner
  readonly history: HistoryService
  readonly webhooks: ChangeWebhooks | undefined
  /** The RoomRegistry options that call the hooks. */
  readonly roomCallbacks: {
    readonly onChange: ((change: RoomChange) => Promise<void> | undefined) | undefined
    readonly afterLoad: ((room: Room) => Promise<void>) | undefined
    readonly beforeUnload: ((room: Room) => void) | undefined
  }
  /** Starts what runs in the background (webhook delivery). */
  start(): Promise<void>
  /** Call after the rooms are gone: reports what they stored, lets running hooks finish. */
  drain(): Promise<void>
  /** Stops webhook delivery (after `drain()`). */
  close(): Promise<void>
}

export function wireHooks(parts: HookWiringParts): HookWiring {
  const { config, store, logger, metrics } = parts
  // Registered even without webhooks: dashboards and alerts name these series.
  const webhookMetrics = new WebhookMetrics(metrics)
  const webhooks = config.webhookUrls
    ? new ChangeWebhooks({
        config,
        store,
        logger,
        metrics: webhookMetrics,
        stateVector: (doc) => parts.registry().get(doc)?.stateVector(),
      })
    : undefined
  // Version history's clock and users come from onChange.
  const history = historyForApp({
    config,
    store,
    registry: parts.registry,
    docExists: parts.docExists,
    logger,
    metrics,
  })
  const hooks = new HookRunner(
    [...(webhooks ? [webhooks.hooks] : []), { onChange: history.onChange }, ...parts.hooks],
    logger,
    metrics,
  )
  const stored = hooks.has('onStoreDocument')
    ? new StoredNotifier({
        debounceMs: parts.storeDebounceMs ?? 2000,
        maxWaitMs: parts.storeMaxWaitMs ?? 10_000,
        flush: () => store.flush(),
        notify: (docName, state) => hooks.notify('onStoreDocument', { docName, state }),
        onFlushError: (docName, error) =>
          logger.error(
            { doc: docName, err: error },
            'flush before onStoreDocument failed; will report later',
          ),
      })
    : undefined
  const reportChanges = hooks.has('onChange')
  return {
    hooks,
    history,
    webhooks,
    roomCallbacks: {
      onChange:
        stored || reportChanges
          ? ({ room, update, origin }: RoomChange) => {
              stored?.changed(room.docName, () => room.encodeStateAsUpdate())
              return reportChanges
                ? hooks.notifyUnlessSync('onChange', { docName: room.docName, update, origin })
                : undefined
            }
          : undefined,
      afterLoad: hooks.has('onLoadDocument')
        ? (room) => seedAside(room, (doc) => hooks.attempt('onLoadDocument', { docName: room.docName, doc }))
        : undefined,
      beforeUnload: stored
        ? (room) => void stored.unloading(room.docName, () => room.encodeStateAsUpdate())
        : undefined,
    },
    start: async () => {
      await webhooks?.start()
    },
    drain: async () => {
      await stored?.close()
      await hooks.idle()
    },
    close: async () => {
      await webhooks?.close()
    },
  }
}
