/**
 * The one place that wires the server together: config -> store, relay, rooms, transport,
 * HTTP. `start()` brings the parts up in dependency order; `close()` takes them down in
 * reverse, flushing everything, and is safe to call twice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { availableParallelism } from 'node:os'
import type { Duplex } from 'node:stream'
import type { Config } from './config/config.js'
import { docNameProblem } from './doc-name.js'
import { DocumentService } from './document/document-service.js'
import { YwsError } from './errors.js'
import { historyForApp } from './history/history-for-app.js'
import type { HistoryService } from './history/history-service.js'
import { HookRunner } from './hook-runner.js'
import type { Hooks } from './hooks.js'
import { adminRouter } from './http/admin-router.js'
import type { AdminActions } from './http/admin-routes.js'
import { adminRouteTable } from './http/admin-table.js'
import { DocumentBackup } from './http/backup-handlers.js'
import { publicRoutes, routeRequest, sendJson, serveRoutes } from './http/http-routes.js'
import { listen } from './http/listen.js'
import { createLogger, type Logger } from './observability/logger.js'
import { Metrics } from './observability/metrics.js'
import type { CloseCodeName } from './protocol/close-codes.js'
import { createRelayFromConfig } from './relay/create-relay.js'
import type { RedisRelayTuning } from './relay/redis-stream-relay.js'
import type { ControlMessage, Relay } from './relay/relay.js'
import { type DirectConnection, RoomDirectConnection } from './room/direct-connection.js'
import type { RoomChange } from './room/room.js'
import { RoomRegistry } from './room/room-registry.js'
import { StoredNotifier } from './room/stored-notifier.js'
import type { CompactionResult } from './storage/doc-store.js'
import { LevelDocStore } from './storage/level-doc-store.js'
import { type Authorizer, JwtAuthorizer, openAuthorizer } from './transport/authorizer.js'
import { RevocationList, type RevocationTarget } from './transport/revocation-list.js'
import { verifierFromConfig } from './transport/verifier-from-config.js'
import { WsGateway } from './transport/ws-gateway.js'
import { ChangeWebhooks } from './webhooks/change-webhooks.js'
import { WebhookMetrics } from './webhooks/webhook-metrics.js'
import { WorkerPool } from './workers/worker-pool.js'

export interface AppOptions {
  readonly logger?: Logger
  /** A relay to use instead of the one the config asks for (REDIS_URL: Redis Streams). */
  readonly relay?: Relay
  /** Tuning of the Redis relay built from config (tests shrink thresholds). */
  readonly relayTuning?: Partial<RedisRelayTuning>
  /** Called when an admin asks this instance to drain (main.ts exits afterwards). */
  readonly onDrain?: () => void
  /** Hook sets, run in this order (built-in extensions first, the user's last). */
  readonly hooks?: readonly Hooks[]
  /** `onStoreDocument` comes this long after a doc's last change (default 2000 ms)... */
  readonly storeDebounceMs?: number
  /** ...or this long after its first unreported change (default 10000 ms). */
  readonly storeMaxWaitMs?: number
}

export interface App {
  readonly config: Config
  readonly logger: Logger
  readonly metrics: Metrics
  readonly store: LevelDocStore
  readonly registry: RoomRegistry
  /** The document API's operations (read, apply, delete) on this instance. */
  readonly documents: DocumentService
  /** Version history of this instance's docs (checkpoints, restore). */
  readonly history: HistoryService
  /** The hook sets in force; the document API calls `onDeleteDocument` through it. */
  readonly hooks: HookRunner
  /**
   * Opens storage and the relay, once (later calls share the first). Everything that needs
   * them calls this on first use, so a server mounted on another HTTP server works without
   * `start()`. Rejects after `close()`.
   */
  open(): Promise<void>
  /** Opens, then listens; resolves with the bound port (PORT=0 picks a free one). */
  start(): Promise<{ port: number; adminPort: number | undefined }>
  /** Takes over an HTTP upgrade request (mount on any http.Server's 'upgrade' event). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /**
   * Answers /healthz, /readyz, /metrics and (without ADMIN_PORT) /admin/*; resolves false,
   * touching nothing, for any other path.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>
  /** A server-side editor of `docName`. @throws YwsError YWS_ERR_DOC_NAME, YWS_ERR_CLOSED */
  openDirectConnection(docName: string): Promise<DirectConnection>
  /** Stops accepting, closes clients with `code` (1012 by default), flushes, releases everything. */
  close(code?: CloseCodeName): Promise<void>
  readonly connectionCount: number
  /**
   * Revokes on this instance only: refuses tokens for the doc/sub issued until now and
   * closes matching connections with 4003. Returns how many were closed.
   */
  revokeLocally(target: RevocationTarget): number
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel, config.instanceId)
  const metrics = new Metrics(config.instanceId)
  // The process's one pool of worker threads for everything CPU-heavy that can leave the
  // event loop: loading and compacting stored docs, merging Redis state, validating big
  // client messages. Injected; nothing else creates one.
  const workers = new WorkerPool(Math.max(1, availableParallelism() - 1))
  const relay =
    options.relay ??
    createRelayFromConfig(config, {
      logger,
      metrics,
      workers,
      ...(options.relayTuning ? { tuning: options.relayTuning } : {}),
    })
  const store = new LevelDocStore(config.dataDir, {
    pool: workers,
    flushIntervalMs: config.flushIntervalMs,
    compactLogEntries: config.compactLogEntries,
    compactLogBytes: config.compactLogBytes,
    observer: {
      onFlush: (seconds, entries) => {
        metrics.persistLatency.observe(seconds)
        metrics.persistedUpdates.inc(entries)
      },
      onFlushError: (error) => {
        metrics.persistErrors.inc()
        logger.error({ err: error }, 'LevelDB write failed; retrying')
      },
      onCompaction: (result) => {
        metrics.compactions.inc({ result: 'ok' })
        metrics.compactionSeconds.observe(result.durationMs / 1000)
        logger.debug({ ...result }, 'document compacted')
      },
      onCompactionError: (docName, error) => {
        metrics.compactions.inc({ result: 'error' })
        logger.error({ doc: docName, err: error }, 'compaction failed; log kept')
      },
    },
  })
  // Change webhooks: a built-in hook set, run before the user's (see src/webhooks/).
  const webhookMetrics = new WebhookMetrics(metrics)
  const webhooks: ChangeWebhooks | undefined = config.webhookUrls
    ? new ChangeWebhooks({
        config,
        store,
        logger,
        metrics: webhookMetrics,
        stateVector: (doc) => registry.get(doc)?.stateVector(),
      })
    : undefined
  // Version history: a built-in hook set too (its clock and users come from onChange).
  const history = historyForApp({ config, store, registry: () => registry, logger, metrics })
  const hooks = new HookRunner(
    [...(webhooks ? [webhooks.hooks] : []), { onChange: history.onChange }, ...(options.hooks ?? [])],
    logger,
    metrics,
  )
  const stored = hooks.has('onStoreDocument')
    ? new StoredNotifier({
        debounceMs: options.storeDebounceMs ?? 2000,
        maxWaitMs: options.storeMaxWaitMs ?? 10_000,
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
  const onChange =
    stored || reportChanges
      ? ({ room, update, origin }: RoomChange) => {
          stored?.changed(room.docName, () => room.encodeStateAsUpdate())
          return reportChanges
            ? hooks.notify('onChange', { docName: room.docName, update, origin })
            : undefined
        }
      : undefined
  const registry: RoomRegistry = new RoomRegistry({
    store,
    relay,
    metrics,
    logger,
    maxDocBytes: config.maxDocBytes,
    maxOpenDocs: config.maxOpenDocs,
    roomIdleMs: config.roomIdleMs,
    // Every load passes the deletion gate: a copy deleted elsewhere is dropped first.
    beforeLoad: (docName): Promise<void> => documents.gate(docName),
    onChange,
    afterLoad: hooks.has('onLoadDocument')
      ? (room) => hooks.attempt('onLoadDocument', { docName: room.docName, doc: room.doc })
      : undefined,
    beforeUnload: stored
      ? (room) => void stored.unloading(room.docName, () => room.encodeStateAsUpdate())
      : undefined,
  })
  // After Redis lost its data the relay re-publishes what this disk holds for docs not
  // open here; a doc loaded only for that is not kept cached.
  relay?.attachStoredDocs?.({
    async *names() {
      for await (const stats of store.listDocs()) yield stats.docName
    },
    async load(docName) {
      const loaded = await store.load(docName)
      if (!registry.get(docName)) store.evict(docName)
      return loaded.update
    },
  })
  const revocations = new RevocationList({ ttlMs: config.revocationTtlMs })
  const tokenVerifier = verifierFromConfig(config, (error) =>
    logger.error({ err: error, url: config.authJwksUrl }, 'JWKS fetch failed; using the last key set served'),
  )
  const authorizer: Authorizer = tokenVerifier
    ? new JwtAuthorizer(tokenVerifier, revocations)
    : openAuthorizer
  const revokeLocally = ({ doc, sub }: RevocationTarget): number => {
    revocations.revoke({ doc, sub })
    metrics.revocations.inc({ target: doc !== undefined ? 'doc' : 'sub' })
    metrics.revokedTokens.set(revocations.size)
    const closed = gateway.closeWhere(
      'accessRevoked',
      (connection) =>
        (doc !== undefined && connection.room.docName === doc) ||
        (sub !== undefined && connection.subject === sub),
    )
    logger.info({ doc, sub, closed }, 'access revoked')
    return closed
  }
  const gateway = new WsGateway({
    registry,
    authorizer,
    hooks,
    metrics,
    logger,
    maxMessageBytes: config.maxMessageBytes,
    heartbeatMs: config.heartbeatMs,
    maxConnections: config.maxConnections,
    maxConnectionsPerDoc: config.maxConnectionsPerDoc,
    allowedOrigins: config.allowedOrigins,
    validateOffThread: (message) => workers.validateMessage(message),
    limits: { maxBufferedBytes: config.maxBufferedBytes, maxMessagesPerSecond: config.maxMessagesPerSecond },
  })
  const documents: DocumentService = new DocumentService({
    registry,
    store,
    relay,
    pool: workers,
    logger,
    closeClients: (docName) =>
      gateway.closeWhere('documentDeleted', (connection) => connection.room.docName === docName),
    ...(hooks.has('onDeleteDocument')
      ? { onDeleted: (context) => hooks.notify('onDeleteDocument', context) }
      : {}),
  })
  const backup = new DocumentBackup({ documents, store, logger, maxDocBytes: config.maxDocBytes })
  let draining = false
  let opening: Promise<void> | undefined
  let closing: Promise<void> | undefined
  const directConnections = new Set<RoomDirectConnection>()

  const health = {
    isReady: () => store.isOpen && !draining,
    relayConnected: () => relay?.connected ?? true,
    readinessDetail: () => ({ storage: store.isOpen, relay: relay?.connected ?? true, draining }),
  }
  // Standalone needs no relay; the Redis relay keeps this gauge current itself.
  if (!relay) metrics.relayConnected.set(1)

  const admin: AdminActions = {
    openDocs: () =>
      [...registry.rooms()].map((room) => ({ doc: room.docName, connections: room.connectionCount })),
    storedDocs: (listing) => store.listDocs(listing),
    flush: () => store.flush(),
    compact: async ({ doc, prefix, gc, dryRun }) => {
      const results: CompactionResult[] = []
      if (doc !== undefined) return [await store.compact(doc, { gc, dryRun })]
      const names: string[] = []
      for await (const stats of store.listDocs(prefix !== undefined ? { prefix } : {}))
        names.push(stats.docName)
      for (const name of names) results.push(await store.compact(name, { gc, dryRun }))
      return results
    },
    // Revoke and evict act on every instance: the relay fans them out (control channel).
    evict: async (doc) => {
      relay?.broadcastControl?.({ type: 'evict', doc })
      return evictLocally(doc)
    },
    revoke: async (target) => {
      relay?.broadcastControl?.({ type: 'revoke', ...target })
      return revokeLocally(target)
    },
    drain: () => {
      draining = true
      logger.info('drain requested by admin')
      if (options.onDrain) options.onDrain()
      else void app.close('serviceRestart')
    },
  }

  async function evictLocally(doc: string): Promise<number> {
    const closed = gateway.closeWhere('normal', (connection) => connection.room.docName === doc)
    await registry.unload(doc)
    return closed
  }
  relay?.onControl?.((message: ControlMessage) => {
    switch (message.type) {
      case 'revoke':
        revokeLocally(message)
        return
      case 'evict':
        evictLocally(message.doc).catch((error: unknown) =>
          logger.error({ doc: message.doc, err: error }, 'cluster evict failed'),
        )
        return
      case 'delete':
        documents
          .deletedElsewhere(message.doc, message.generation)
          .catch((error: unknown) => logger.error({ doc: message.doc, err: error }, 'cluster delete failed'))
        return
    }
  })

  relay?.onDocDeleted?.((docName, generation) => {
    documents
      .deletedElsewhere(docName, generation)
      .catch((error: unknown) => logger.error({ doc: docName, err: error }, 'cluster delete failed'))
  })

  const onRouteError = (error: unknown) => logger.error({ err: error }, 'HTTP handler failed')
  const adminHandler = adminRouter(
    config.adminToken,
    adminRouteTable({
      operator: admin,
      documents: { documents, backup, maxUpdateBytes: config.maxMessageBytes },
      history,
    }),
    metrics,
  )
  // With ADMIN_PORT, admin routes live only on that port (bound to ADMIN_HOST, loopback by
  // default), so user traffic can never reach them even with the token.
  const mainRoutes =
    config.adminPort === undefined
      ? [publicRoutes(health, metrics), adminHandler]
      : [publicRoutes(health, metrics)]
  const routeMain = routeRequest(mainRoutes, onRouteError)

  const open = (): Promise<void> => {
    if (closing) return Promise.reject(new YwsError('YWS_ERR_CLOSED'))
    opening ??= (async () => {
      await store.open()
      await relay?.start()
      await webhooks?.start()
    })()
    return opening
  }

  const handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (closing) {
      socket.destroy()
      return
    }
    // Mounted servers may see their first upgrade before anything opened storage.
    open().then(
      () => gateway.handleUpgrade(request, socket, head),
      (error: unknown) => {
        logger.error({ err: error }, 'could not open storage for an upgrade')
        if (!socket.destroyed) socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
      },
    )
  }

  const handleRequest = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/'
    const ours = PUBLIC_PATHS.has(path) || (config.adminPort === undefined && path.startsWith('/admin/'))
    if (!ours) return false
    try {
      await open()
    } catch (error) {
      logger.error({ err: error }, 'could not open storage for an HTTP request')
      sendJson(response, 503, { error: 'storage unavailable' })
      return true
    }
    return routeMain(request, response)
  }

  const mainServer = createServer(serveRoutes(mainRoutes, onRouteError))
  mainServer.on('upgrade', handleUpgrade)
  const adminServer: Server | undefined =
    config.adminPort === undefined ? undefined : createServer(serveRoutes([adminHandler], onRouteError))

  const app: App = {
    config,
    logger,
    metrics,
    store,
    registry,
    documents,
    history,
    hooks,
    get connectionCount() {
      return gateway.connectionCount
    },
    revokeLocally,
    open,
    handleUpgrade,
    handleRequest,
    async openDirectConnection(docName: string) {
      const problem = typeof docName === 'string' ? docNameProblem(docName) : 'document name must be a string'
      if (problem) throw new YwsError('YWS_ERR_DOC_NAME', problem)
      await open()
      let room: Awaited<ReturnType<RoomRegistry['acquire']>>
      try {
        room = await registry.acquire(docName)
      } catch (error) {
        if (closing) throw new YwsError('YWS_ERR_CLOSED')
        throw new YwsError(
          'YWS_ERR_DOC_UNAVAILABLE',
          error instanceof Error ? error.message : String(error),
          {
            cause: error,
          },
        )
      }
      if (closing) {
        registry.release(room)
        throw new YwsError('YWS_ERR_CLOSED')
      }
      const connection = new RoomDirectConnection(room, registry, store, (gone) =>
        directConnections.delete(gone),
      )
      directConnections.add(connection)
      return connection
    },
    async start() {
      await open()
      const port = await listen(mainServer, config.host, config.port, { host: 'HOST', port: 'PORT' })
      const adminPort = adminServer
        ? await listen(adminServer, config.adminHost, config.adminPort!, {
            host: 'ADMIN_HOST',
            port: 'ADMIN_PORT',
          })
        : undefined
      if (!tokenVerifier && !hooks.has('onAuthenticate')) {
        logger.warn(
          'AUTH_SECRET and AUTH_JWKS_URL are unset: anyone who can reach this port can read and edit every document',
        )
      }
      logger.info(
        {
          host: config.host,
          port,
          adminPort,
          dataDir: config.dataDir,
          mode: relay ? 'cluster' : 'standalone',
        },
        `listening on ws://${config.host}:${port}`,
      )
      return { port, adminPort }
    },
    close(code: CloseCodeName = 'serviceRestart') {
      closing ??= (async () => {
        draining = true
        // Parts still opening are closed only once they are open (or failed to open).
        await opening?.catch(() => undefined)
        for (const connection of [...directConnections]) await connection.disconnect()
        gateway.stopAccepting()
        mainServer.close()
        adminServer?.close()
        gateway.close(code)
        history.close()
        await registry.close()
        // Rooms are gone: report what they stored, let running hooks finish, then close storage.
        await stored?.close()
        await hooks.idle()
        await relay?.close()
        await webhooks?.close()
        await store.close()
        await workers.close()
        mainServer.closeAllConnections()
        adminServer?.closeAllConnections()
        logger.info('shut down cleanly')
      })()
      return closing
    },
  }
  return app
}

/** Paths the public routes answer on the main port. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics'])
