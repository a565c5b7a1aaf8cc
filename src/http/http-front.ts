/**
 * The server's HTTP side: the public routes (/healthz, /readyz, /metrics) and the admin
 * routes on the main port — or, with ADMIN_PORT, the admin routes only on their own port
 * (bound to ADMIN_HOST, loopback by default) so user traffic can never reach them even with
 * the token. Serves three ways: its own http.Servers (`listen`), and for a server mounted on
 * someone else's HTTP server, `handleRequest` (resolves false, touching nothing, for any
 * path that is not ours) while upgrades go to `onUpgrade`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Config } from '../config/config.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { type AdminRoute, adminRouter } from './admin-router.js'
import { type HealthSource, publicRoutes, routeRequest, sendJson, serveRoutes } from './http-routes.js'
import { listen } from './listen.js'

export interface HttpFrontParts {
  readonly config: Pick<Config, 'adminToken' | 'adminPort' | 'adminHost' | 'host' | 'port'>
  readonly logger: Logger
  readonly metrics: Metrics
  readonly health: HealthSource
  readonly adminRoutes: readonly AdminRoute[]
  /** Opens storage and the relay (first use); a request waits for it, 503 if it fails. */
  readonly open: () => Promise<void>
  /** Where the main server's upgrade requests go. */
  readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void
}

/** Paths the public routes answer on the main port. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

export class HttpFront {
  private readonly main: Server
  private readonly admin: Server | undefined
  private readonly routeMain: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>

  constructor(private readonly parts: HttpFrontParts) {
    const { config, logger, metrics } = parts
    const onError = (error: unknown) => logger.error({ err: error }, 'HTTP handler failed')
    const adminHandler = adminRouter(config.adminToken, parts.adminRoutes, metrics)
    const mainRoutes =
      config.adminPort === undefined
        ? [publicRoutes(parts.health, metrics), adminHandler]
        : [publicRoutes(parts.health, metrics)]
    this.routeMain = routeRequest(mainRoutes, onError)
    this.main = createServer(serveRoutes(mainRoutes, onError))
    this.main.on('upgrade', parts.onUpgrade)
    this.admin =
      config.adminPort === undefined ? undefined : createServer(serveRoutes([adminHandler], onError))
  }

  /** Answers our paths on someone else's server; false (untouched) for any other path. */
  async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const { config, logger } = this.parts
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/'
    const ours = PUBLIC_PATHS.has(path) || (config.adminPort === undefined && path.startsWith('/admin/'))
    if (!ours) return false
    try {
      await this.parts.open()
    } catch (error) {
      logger.error({ err: error }, 'could not open storage for an HTTP request')
      sendJson(response, 503, { error: 'storage unavailable' })
      return true
    }
    return this.routeMain(request, response)
  }

  /** Binds the main port (and the admin port when set); resolves with the bound ports. */
  async listen(): Promise<{ port: number; adminPort: number | undefined }> {
    const { config } = this.parts
    const port = await listen(this.main, config.host, config.port, { host: 'HOST', port: 'PORT' })
    const adminPort = this.admin
      ? await listen(this.admin, config.adminHost, config.adminPort!, {
          host: 'ADMIN_HOST',
          port: 'ADMIN_PORT',
        })
      : undefined
    return { port, adminPort }
  }

  /** Stops accepting connections (open ones finish or are cut by `closeAllConnections`). */
  stopAccepting(): void {
    this.main.close()
    this.admin?.close()
  }

  closeAllConnections(): void {
    this.main.closeAllConnections()
    this.admin?.closeAllConnections()
  }
}
