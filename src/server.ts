/**
 * The library API (`import { createServer } from 'yjs-cluster-server'`): the whole server as
 * an object you embed. `createServer` never reads the environment and starts nothing; storage
 * and the relay open on first use (or `listen()`), so the server can be mounted on an existing
 * HTTP server (Express, Fastify, plain http) through `handleUpgrade` and `handleRequest`. The
 * standalone process (`serve`) is this same object configured from the environment.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { createApp } from './app.js'
import { type Config, ConfigError, resolveConfig } from './config/config.js'
import { type DocumentOperations, documentOperations } from './document-operations.js'
import type { Hooks } from './hooks.js'
import type { Logger } from './observability/logger.js'
import type { DirectConnection } from './room/direct-connection.js'
import { checkOptionNames } from './server-options.js'

/**
 * Every setting of the server in camelCase (see docs/configuration.md: `MAX_DOC_BYTES` is
 * `maxDocBytes`), all optional with the same defaults as the environment, plus hooks.
 */
export type ServerOptions = { readonly [K in keyof Config]?: Config[K] } & {
  /** Your hooks (docs/library.md): typed, awaited; a throw is logged and counted. */
  readonly hooks?: Hooks
  /**
   * Hook sets that run before `hooks`, in this order: how built-in features (webhooks,
   * version history) plug in. The same semantics as `hooks`.
   */
  readonly extensions?: readonly Hooks[]
  /** `onStoreDocument` comes this long after a doc's last change (default 2000 ms)... */
  readonly storeDebounceMs?: number
  /** ...or at the latest this long after its first unreported change (default 10000 ms). */
  readonly storeMaxWaitMs?: number
  /** A pino logger to use instead of one on stdout at `logLevel`. */
  readonly logger?: Logger
  /**
   * Called when an operator asks this instance to drain (`POST /admin/drain`); the standalone
   * process exits through it. Default: the server closes itself (clients get 1012).
   */
  readonly onDrain?: () => void
}

/**
 * A collaborative-editing server: y-websocket endpoint, storage, relay, HTTP endpoints, and
 * the document API's operations ({@link DocumentOperations}) as methods.
 */
export interface CollabServer extends DocumentOperations {
  /** The validated settings in force (defaults filled in). */
  readonly config: Config
  /**
   * Opens storage and the relay and listens on `host`:`port` (0 picks a free port), plus
   * `adminPort` when set. Resolves with the bound ports.
   * @throws whatever opening storage or binding fails with (for example EADDRINUSE).
   */
  listen(): Promise<{ port: number; adminPort?: number }>
  /**
   * Takes over a WebSocket upgrade request. Works without `listen()`: mount it with
   * `httpServer.on('upgrade', (req, socket, head) => server.handleUpgrade(req, socket, head))`.
   * Refusals are answered on the socket with an HTTP status (400/401/403/503).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /**
   * Answers `/healthz`, `/readyz`, `/metrics` and (unless `adminPort` is set) `/admin/*`.
   * Resolves false without touching the response for any other path, so a framework can
   * pass the request on.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>
  /**
   * A server-side editor of `docName`; its changes are broadcast, stored and relayed like a
   * client's (origin kind `server`). Holds the document open until `disconnect()`.
   * @throws YwsError YWS_ERR_DOC_NAME for a bad name, YWS_ERR_CLOSED after `close()`.
   */
  openDirectConnection(docName: string): Promise<DirectConnection>
  /**
   * Stops accepting, closes clients with 1012, disconnects direct connections, flushes
   * everything to disk and releases every resource (the process can then exit by itself).
   * Safe to call more than once: every call resolves when the first has finished.
   */
  close(): Promise<void>
}

/**
 * Creates a server; starts nothing. @throws ConfigError naming the first bad option (an
 * unknown name, a hook that is not a function, a bad value).
 */
export function createServer(options: ServerOptions = {}): CollabServer {
  checkOptionNames(options, {
    hooks: 'hooks',
    extensions: 'hook sets',
    storeDebounceMs: 'number',
    storeMaxWaitMs: 'number',
    logger: 'object',
    onDrain: 'function',
  })
  const config = resolveConfig(options)
  for (const key of ['storeDebounceMs', 'storeMaxWaitMs'] as const) {
    const value = options[key]
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 3_600_000)) {
      throw new ConfigError(`${key} must be between 0 and 3600000, got ${String(value)}`)
    }
  }
  const app = createApp(config, {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onDrain ? { onDrain: options.onDrain } : {}),
    hooks: [...(options.extensions ?? []), ...(options.hooks ? [options.hooks] : [])],
    ...(options.storeDebounceMs !== undefined ? { storeDebounceMs: options.storeDebounceMs } : {}),
    ...(options.storeMaxWaitMs !== undefined ? { storeMaxWaitMs: options.storeMaxWaitMs } : {}),
  })
  return {
    config,
    async listen() {
      const { port, adminPort } = await app.start()
      return adminPort === undefined ? { port } : { port, adminPort }
    },
    handleUpgrade: (request, socket, head) => app.handleUpgrade(request, socket, head),
    handleRequest: (request, response) => app.handleRequest(request, response),
    openDirectConnection: (docName) => app.openDirectConnection(docName),
    ...documentOperations(app),
    close: () => app.close(),
  }
}
