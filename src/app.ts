/**
 * The one place that wires the server together: config -> store, relay, rooms, transport,
 * HTTP. `start()` brings the parts up in dependency order; `close()` takes them down in
 * reverse, flushing everything, and is safe to call twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { createAdapters } from './adapters.js'
import type { Config } from './config/config.js'
import { DocumentService } from './document/document-service.js'
import { YwsError } from './errors.js'
import type { HistoryService } from './history/history-service.js'
import type { HookRunner } from './hook-runner.js'
import { wireHooks } from './hook-wiring.js'
import type { Hooks } from './hooks.js'
import { adminRouteTable } from './http/admin-table.js'
import { DocumentBackup } from './http/backup-handlers.js'
import { HttpFront } from './http/http-front.js'
import { createLogger, type Logger } from './observability/logger.js'
import { Metrics } from './observability/metrics.js'
import { InstanceOperator } from './operator/instance-operator.js'
import type { CloseCodeName } from './protocol/close-codes.js'
import type { RedisRelayTuning } from './relay/redis-stream-relay.js'
import type { Relay } from './relay/relay.js'
import type { DirectConnection } from './room/direct-connection.js'
import { DirectConnections } from './room/direct-connections.js'
import { RoomRegistry } from './room/room-registry.js'
import type { LevelDocStore } from './storage/level-doc-store.js'
import { liveStateOf } from './storage/live-state.js'
import { owedMarks } from './storage/owed-marks.js'
import { type Authorizer, JwtAuthorizer, openAuthorizer } from './transport/authorizer.js'
import { RevocationList, type RevocationTarget } from './transport/revocation-list.js'
import { verifierFromConfig } from './transport/verifier-from-config.js'
import { WsGateway } from './transport/ws-gateway.js'

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
  const adapters = createAdapters(config, {
    logger,
    metrics,
    ...(options.relay ? { relay: options.relay } : {}),
    ...(options.relayTuning ? { relayTuning: options.relayTuning } : {}),
  })
  const { store, relay, workers } = adapters
  const wired = wireHooks({
    config,
    store,
    registry: () => registry,
    docExists: (docName) => documents.exists(docName),
    logger,
    metrics,
    hooks: options.hooks ?? [],
    ...(options.storeDebounceMs !== undefined ? { storeDebounceMs: options.storeDebounceMs } : {}),
    ...(options.storeMaxWaitMs !== undefined ? { storeMaxWaitMs: options.storeMaxWaitMs } : {}),
  })
  const { hooks, history } = wired
  const registry: RoomRegistry = new RoomRegistry({
    store,
    relay,
    metrics,
    logger,
    maxDocBytes: config.maxDocBytes,
    maxOpenDocs: config.maxOpenDocs,
    roomIdleMs: config.roomIdleMs,
    workers,
    // Every load passes the deletion gate: a copy deleted elsewhere is dropped first.
    beforeLoad: (docName): Promise<void> => documents.gate(docName),
    ...wired.roomCallbacks,
  })
  // Compacting an open doc encodes its room's doc instead of re-merging the log (issue 16).
  store.useLiveState(liveStateOf((docName) => registry.get(docName)))
  // After Redis lost its data the relay re-publishes what this disk holds for docs not
  // open here; a doc loaded only for that is not kept cached. `owed` marks docs whose
  // changes Redis may lack after an outage (data-loss-watch.ts), on disk beside them.
  relay.attachStoredDocs({
    owed: owedMarks(store),
    async *names() {
      for await (const stats of store.listDocs()) yield stats.docName
    },
    async load(docName) {
      const loaded = await store.load(docName)
      if (!registry.get(docName)) store.evict(docName)
      return loaded.update
    },
    async loadUndeleted(docName) {
      await documents.gate(docName)
      return this.load(docName)
    },
  })
  // An update reaches this disk only once Redis confirmed it or its doc is marked owed: a
  // process killed while an XADD hangs must not keep the update here alone.
  if (relay.beforeStore) store.useWriteGuard?.((docs) => relay.beforeStore?.(docs))
  const revocations = new RevocationList({ ttlMs: config.revocationTtlMs })
  const tokenVerifier = verifierFromConfig(config, (error) =>
    logger.error({ err: error, url: config.authJwksUrl }, 'JWKS fetch failed; using the last key set served'),
  )
  const authorizer: Authorizer = tokenVerifier
    ? new JwtAuthorizer(tokenVerifier, revocations)
    : openAuthorizer
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
  const operator = new InstanceOperator({
    registry,
    store,
    relay,
    gateway,
    documents,
    revocations,
    metrics,
    logger,
    onDrain: () => (options.onDrain ? options.onDrain() : void app.close('serviceRestart')),
  })
  operator.followCluster()
  const backup = new DocumentBackup({ documents, store, logger, maxDocBytes: config.maxDocBytes })
  let opening: Promise<void> | undefined
  let closing: Promise<void> | undefined
  /** start() failed: the close that follows is a clean-up, not a clean shutdown to report. */
  let startFailed = false
  const directConnections = new DirectConnections(registry, store)

  const open = (): Promise<void> => {
    if (closing) return Promise.reject(new YwsError('YWS_ERR_CLOSED'))
    opening ??= (async () => {
      await store.open()
      await relay.start()
      await wired.start()
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

  const http = new HttpFront({
    config,
    logger,
    metrics,
    health: operator.health,
    adminRoutes: adminRouteTable({
      operator,
      documents: { documents, backup, maxUpdateBytes: config.maxMessageBytes },
      history,
    }),
    open,
    onUpgrade: handleUpgrade,
  })

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
    revokeLocally: (target) => operator.revokeLocally(target),
    open,
    handleUpgrade,
    handleRequest: (request, response) => http.handleRequest(request, response),
    openDirectConnection: (docName) => directConnections.connect(docName, open),
    async start() {
      let bound: { port: number; adminPort: number | undefined }
      try {
        await open()
        bound = await http.listen()
      } catch (error) {
        startFailed = true
        throw error
      }
      const { port, adminPort } = bound
      if (!tokenVerifier && !hooks.has('onAuthenticate')) {
        logger.warn(
          'AUTH_SECRET and AUTH_JWKS_URL are unset: anyone who can reach this port can read and edit every document',
        )
      }
      const mode = relay.mode
      logger.info(
        { host: config.host, port, adminPort, dataDir: config.dataDir, mode },
        `listening on ws://${config.host}:${port}`,
      )
      return { port, adminPort }
    },
    close(code: CloseCodeName = 'serviceRestart') {
      closing ??= (async () => {
        operator.draining = true
        directConnections.stopAccepting()
        // Parts still opening are closed only once they are open (or failed to open).
        await opening?.catch(() => undefined)
        await directConnections.disconnectAll()
        gateway.stopAccepting()
        http.stopAccepting()
        gateway.close(code)
        history.close()
        await registry.close()
        // Rooms are gone: report what they stored, let running hooks finish, then close storage.
        await wired.drain()
        await wired.close()
        await adapters.close()
        http.closeAllConnections()
        if (!startFailed) logger.info('shut down cleanly')
      })()
      return closing
    },
  }
  return app
}
