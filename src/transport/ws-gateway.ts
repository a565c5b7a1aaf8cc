/**
 * The HTTP upgrade path: everything that can refuse a client does so here, with an HTTP
 * status, before a WebSocket exists (bad doc name 400, auth 401/403, limits 503). Then the
 * room is loaded — so the first sync message is only sent from a complete document — and
 * the socket is handed to a Connection. Also runs the heartbeat over all connections.
 */

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { docNameFromPath, docNameProblem, NOT_PERCENT_ENCODING } from '../doc-name.js'
import { ErrorCodes } from '../errors.js'
import { type HookRunner, refusalStatus } from '../hook-runner.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { CloseCodeName } from '../protocol/close-codes.js'
import { type RoomRegistry, TooManyDocsError } from '../room/room-registry.js'
import type { ValidationVerdict } from '../workers/tasks.js'
import type { AccessGrant } from './access-grant.js'
import { type Authorizer, tokenFromRequest, tokenSubprotocol } from './authorizer.js'
import { Connection, type ConnectionLimits } from './connection.js'
import { Heartbeat } from './heartbeat.js'
import { badHandshake, refuse } from './upgrade-refusal.js'

export interface WsGatewayOptions {
  readonly registry: RoomRegistry
  readonly authorizer: Authorizer
  /** Library hooks: onAuthenticate decides after the token check; onConnect/onDisconnect observe. */
  readonly hooks: HookRunner
  readonly metrics: Metrics
  readonly logger: Logger
  readonly maxMessageBytes: number
  readonly heartbeatMs: number
  readonly maxConnections: number
  readonly maxConnectionsPerDoc: number
  /** Browser origins allowed to connect; undefined = any. */
  readonly allowedOrigins?: readonly string[] | undefined
  readonly limits: ConnectionLimits
  /** Validates big client messages off the event loop (the app's worker pool). */
  readonly validateOffThread?: (message: Uint8Array) => Promise<ValidationVerdict>
}

export class WsGateway {
  private readonly wss: WebSocketServer
  private readonly connections = new Set<Connection>()
  /** Upgrades past the connection-cap check but not yet connected (they hold a slot). */
  private pendingUpgrades = 0
  private readonly heartbeat: Heartbeat
  private accepting = true

  constructor(private readonly options: WsGatewayOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      // permessage-deflate fragments memory badly under load (ws README); Yjs updates are small.
      perMessageDeflate: false,
      clientTracking: false,
      // Browsers cannot set headers on a WebSocket, so a token may ride in the subprotocol
      // list as `yauth-<JWT>`; it must be echoed back or the browser aborts the handshake.
      handleProtocols: (_protocols, request) =>
        tokenSubprotocol(request.headers['sec-websocket-protocol']) ?? false,
    })
    this.heartbeat = new Heartbeat(options.heartbeatMs, () => this.connections)
  }

  get connectionCount(): number {
    return this.connections.size
  }

  /** Stops taking new WebSockets (drain and shutdown); upgrades get 503. */
  stopAccepting(): void {
    this.accepting = false
  }

  /** Connections matching `filter` are closed with `code` (they may reconnect). */
  closeWhere(code: CloseCodeName, filter: (connection: Connection) => boolean): number {
    let count = 0
    for (const connection of [...this.connections]) {
      if (filter(connection)) {
        connection.close(code)
        count += 1
      }
    }
    return count
  }

  readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (error) => this.options.logger.debug({ err: error.message }, 'upgrade socket error'))
    this.upgrade(request, socket, head).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'upgrade failed')
      refuse(socket, 500, 'internal error')
    })
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { metrics } = this.options
    // Refuse what ws would refuse anyway before spending a token check or a document load
    // on it (and so that ws never aborts a handshake after we acquired a room).
    const handshakeProblem = badHandshake(request)
    if (handshakeProblem) {
      metrics.upgradesRejected.inc({ reason: 'bad-handshake' })
      return refuse(socket, 400, handshakeProblem)
    }
    const url = request.url ?? ''
    const docName = docNameFromPath(url)
    if (docName === undefined || docNameProblem(docName)) {
      metrics.upgradesRejected.inc({ reason: 'bad-doc-name' })
      const problem = docName === undefined ? undefined : docNameProblem(docName)
      return refuse(socket, 400, problem ?? (url.startsWith('/') ? NOT_PERCENT_ENCODING : 'malformed path'))
    }
    if (!this.accepting) {
      metrics.upgradesRejected.inc({ reason: 'draining' })
      return refuse(socket, 503, 'server is restarting', { 'Retry-After': '1' })
    }
    // Browsers attach cookies to cross-site WebSocket handshakes (SameSite=None), so a page
    // on another site could ride a user's `token` cookie (cross-site WebSocket hijacking).
    // Browsers always send Origin; other clients do not and are unaffected.
    const origin = request.headers.origin?.toLowerCase()
    if (
      this.options.allowedOrigins &&
      origin !== undefined &&
      !this.options.allowedOrigins.includes(origin)
    ) {
      metrics.upgradesRejected.inc({ reason: 'origin' })
      return refuse(socket, 403, 'origin not allowed')
    }
    const auth = await this.options.authorizer.authorize(request, docName)
    if (!auth.ok) {
      metrics.authFailures.inc({ reason: auth.reason })
      metrics.upgradesRejected.inc({ reason: auth.status === 401 ? 'unauthenticated' : 'forbidden' })
      this.options.logger.info({ doc: docName, reason: auth.reason }, 'upgrade refused by auth')
      return refuse(socket, auth.status, auth.status === 401 ? 'unauthorized' : 'forbidden')
    }
    let grant = auth.grant
    if (this.options.hooks.has('onAuthenticate')) {
      const decided = await this.askHook(request, docName, grant)
      if (!decided.ok)
        return refuse(socket, decided.status, decided.status === 401 ? 'unauthorized' : 'forbidden')
      grant = decided.grant
    }
    // Upgrades awaiting a document load count too, or a burst could overshoot the cap.
    if (this.connections.size + this.pendingUpgrades >= this.options.maxConnections) {
      metrics.upgradesRejected.inc({ reason: 'max-connections' })
      return refuse(socket, 503, 'too many connections', { 'Retry-After': '5' })
    }
    this.pendingUpgrades += 1
    try {
      await this.admit(request, socket, head, docName, grant)
    } finally {
      this.pendingUpgrades -= 1
    }
  }

  /**
   * The `onAuthenticate` hook decides, after the token check (when auth is configured):
   * a throw refuses (401, or 403 when the error carries status 403); otherwise its user
   * replaces `{ id: sub }` and its readOnly can only restrict what the token granted.
   */
  private async askHook(
    request: IncomingMessage,
    docName: string,
    grant: AccessGrant,
  ): Promise<{ ok: true; grant: AccessGrant } | { ok: false; status: 401 | 403 }> {
    const { metrics, logger } = this.options
    try {
      const answer = await this.options.hooks.authenticate({
        docName,
        request,
        token: tokenFromRequest(request),
      })
      return {
        ok: true,
        grant: {
          ...grant,
          readOnly: grant.readOnly || answer.readOnly,
          user: answer.user ?? grant.user,
        },
      }
    } catch (error) {
      const status = refusalStatus(error)
      metrics.authFailures.inc({ reason: 'hook' })
      metrics.upgradesRejected.inc({ reason: status === 401 ? 'unauthenticated' : 'forbidden' })
      logger.info(
        { doc: docName, status, err: error instanceof Error ? error.message : String(error) },
        'upgrade refused by onAuthenticate',
      )
      return { ok: false, status }
    }
  }

  private async admit(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    docName: string,
    grant: AccessGrant,
  ): Promise<void> {
    const { metrics, registry } = this.options
    let room: Awaited<ReturnType<RoomRegistry['acquire']>>
    try {
      room = await registry.acquire(docName)
    } catch (error) {
      // Statuses from the catalogue: any other load failure is YWS_ERR_DOC_UNAVAILABLE, whatever
      // the hook or the store threw (its own status would tell the client the wrong story).
      if (error instanceof TooManyDocsError) {
        metrics.upgradesRejected.inc({ reason: 'max-docs' })
        return refuse(socket, error.status, 'too many open documents', { 'Retry-After': '5' })
      }
      metrics.upgradesRejected.inc({ reason: 'load-failed' })
      this.options.logger.error({ doc: docName, err: error }, 'document failed to load')
      const unavailable = ErrorCodes.YWS_ERR_DOC_UNAVAILABLE
      return refuse(socket, unavailable.status, unavailable.message, { 'Retry-After': '5' })
    }
    if (room.connectionCount >= this.options.maxConnectionsPerDoc) {
      registry.release(room)
      metrics.upgradesRejected.inc({ reason: 'max-connections-per-doc' })
      return refuse(socket, 503, 'too many connections to this document', { 'Retry-After': '5' })
    }
    // The client may have given up while the document loaded.
    if (socket.destroyed || !this.accepting) {
      registry.release(room)
      if (!socket.destroyed) refuse(socket, 503, 'server is restarting')
      return
    }
    let upgraded = false
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      upgraded = true
      const { hooks } = this.options
      const who = { docName, user: grant.user }
      // onConnect runs before the connection's first message is handled; onDisconnect only
      // after onConnect finished, so a hook never sees a user leave before it arrived.
      let connected: Promise<void> | undefined
      const connection = new Connection({
        ws,
        room,
        grant,
        limits: { ...this.options.limits, maxMessageBytes: this.options.maxMessageBytes },
        metrics,
        logger: this.options.logger,
        validateOffThread: this.options.validateOffThread,
        beforeFirstMessage: hooks.has('onConnect')
          ? () => {
              connected = hooks.notify('onConnect', who)
              return connected
            }
          : undefined,
        onClosed: (closed) => {
          this.connections.delete(closed)
          metrics.connections.set(this.connections.size)
          registry.release(closed.room)
          if (hooks.has('onDisconnect')) {
            void (connected ?? Promise.resolve()).then(() => hooks.notify('onDisconnect', who))
          }
        },
      })
      this.connections.add(connection)
      metrics.connections.set(this.connections.size)
      metrics.connectionsTotal.inc()
      connection.start()
    })
    // ws validates and completes (or aborts) the handshake synchronously. If it aborted —
    // a header our pre-check does not cover, or a socket that closed meanwhile — the room
    // must be released here, or every bad handshake would pin a document in memory.
    if (!upgraded) {
      registry.release(room)
      metrics.upgradesRejected.inc({ reason: 'bad-handshake' })
    }
  }

  /** Closes every connection with `code` and stops the heartbeat. */
  close(code: CloseCodeName): void {
    this.accepting = false
    this.heartbeat.stop()
    for (const connection of [...this.connections]) connection.close(code)
    this.wss.close()
  }
}
