/**
 * One client WebSocket: decodes and validates its messages before the room sees them,
 * enforces its rate limit and send budget, and closes it with a meaningful code. A problem
 * with one connection closes that connection only.
 */

import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import { closeCodeOf } from '../errors.js'
import type { HookUser } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import {
  CloseCode,
  type CloseCodeName,
  type ConnectionEndReason,
  closeReason,
} from '../protocol/close-codes.js'
import { type ClientMessage, decodeClientMessage } from '../protocol/messages.js'
import type { OutgoingType, Room, RoomConnection } from '../room/room.js'
import type { ValidationVerdict } from '../workers/tasks.js'
import type { AccessGrant } from './access-grant.js'
import { InboundQueue } from './inbound-queue.js'
import { Outgoing } from './outgoing.js'
import { TokenBucket } from './token-bucket.js'

export interface ConnectionLimits {
  /** Send budget, and the inbound backlog past which we stop reading the socket. */
  readonly maxBufferedBytes: number
  readonly maxMessagesPerSecond: number
  /** Largest client message (ws's maxPayload); sizes the inbound hard bound. Default: maxBufferedBytes. */
  readonly maxMessageBytes?: number | undefined
}

/** Everything a Connection is made of (one object: eight positional arguments were unreadable). */
export interface ConnectionOptions {
  readonly ws: WebSocket
  readonly room: Room
  readonly grant: AccessGrant
  readonly limits: ConnectionLimits
  readonly metrics: Metrics
  readonly logger: Logger
  /** Called once, however the connection ended, after it left the room. */
  readonly onClosed: (connection: Connection) => void
  /** Validates a big message on a worker thread (the Yjs parse is the costly part). */
  readonly validateOffThread?: ((message: Uint8Array) => Promise<ValidationVerdict>) | undefined
  /**
   * Runs before the connection's first message is handled (the `onConnect` hook): messages
   * that arrive meanwhile wait in order. Never rejects (the hook runner logs errors).
   */
  readonly beforeFirstMessage?: (() => Promise<void>) | undefined
}

/** After a close frame is queued, wait this long for the peer before cutting the socket. */
const CLOSE_GRACE_MS = 1000

/**
 * Messages at least this big are validated on a worker thread: parsing a 5 MB update to
 * validate it takes 40-90 ms, more than applying it (measured on the CI box).
 */
export const OFF_THREAD_VALIDATION_BYTES = 256 * 1024

/** Socket reads deliver at most this much at once (a net.Socket read is 64 KiB). */
const SOCKET_CHUNK_BYTES = 64 * 1024

/**
 * Inbound flow control. Past `maxBufferedBytes` of messages waiting behind a busy handler (a
 * big update validated on a worker, an awaited hook) we stop reading the socket, so the
 * client's sends block on TCP backpressure instead of being closed with 1013; reading resumes
 * under a quarter of it. A pause cannot recall what ws has already read: at most the message
 * it is assembling and the rest of one socket chunk. The hard bound covers that, and only a
 * client that ignores it (none can, short of a bug in this code or ws) is closed with 1013.
 */
export function inboundBounds(limits: ConnectionLimits): {
  pauseAboveBytes: number
  resumeBelowBytes: number
  hardMaxBytes: number
} {
  const pauseAboveBytes = limits.maxBufferedBytes
  const maxMessageBytes = limits.maxMessageBytes ?? limits.maxBufferedBytes
  return {
    pauseAboveBytes,
    resumeBelowBytes: Math.floor(pauseAboveBytes / 4),
    hardMaxBytes: pauseAboveBytes + 2 * maxMessageBytes + SOCKET_CHUNK_BYTES,
  }
}

/** One unit of inbound work: a received frame, or an internal task kept in the same order. */
type Inbound =
  | { readonly bytes: Uint8Array; readonly isBinary: boolean }
  | { readonly task: () => Promise<void> }

export class Connection implements RoomConnection {
  readonly id = randomBytes(6).toString('hex')
  readonly awarenessIds = new Set<number>()
  readonly readOnly: boolean
  readonly subject: string | undefined
  /** Who this is for hooks (onAuthenticate's user, or `{ id: sub }` for a JWT). */
  readonly user: HookUser | undefined
  readonly room: Room
  /**
   * Heartbeat: set by a pong or any message, cleared by each ping. A message proves the peer
   * alive as well as a pong does, and on a slow link our ping can wait behind megabytes of
   * first sync in the kernel's buffers for longer than the heartbeat interval.
   */
  alive = true
  private closed = false
  private readonly ws: WebSocket
  private readonly outgoing: Outgoing
  private readonly metrics: Metrics
  private readonly rate: TokenBucket | undefined
  private expiryTimer: NodeJS.Timeout | undefined
  private readonly logger: Logger
  /**
   * Every message goes through this queue, so the room sees a connection's messages in the
   * order they were sent even while one waits for a worker thread or a hook.
   */
  private readonly inbound: InboundQueue<Inbound>

  constructor(private readonly options: ConnectionOptions) {
    const { ws, room, grant, limits, logger } = options
    this.ws = ws
    this.room = room
    this.metrics = options.metrics
    this.readOnly = grant.readOnly
    this.subject = grant.subject
    this.user = grant.user
    this.logger = logger.child({ conn: this.id, doc: room.docName, sub: grant.subject })
    this.outgoing = new Outgoing(ws, limits.maxBufferedBytes, options.metrics, this.logger)
    if (limits.maxMessagesPerSecond > 0) {
      this.rate = new TokenBucket(limits.maxMessagesPerSecond * 2, limits.maxMessagesPerSecond)
    }
    const bounds = inboundBounds(limits)
    this.inbound = new InboundQueue<Inbound>(
      (item) => ('task' in item ? item.task() : this.process(item.bytes, item.isBinary)),
      bounds.hardMaxBytes,
      (error) => {
        // A bug or an unexpected failure: this connection goes, the room stays. A catalogued
        // error closes with its own code (YWS_ERR_CLOSED: 1012), anything else with 1011.
        this.logger.error({ err: error }, 'message handling failed')
        this.metrics.rejectedInputs.inc({ reason: 'handler-error' })
        this.close(closeCodeOf(error))
      },
      {
        pauseAboveBytes: bounds.pauseAboveBytes,
        resumeBelowBytes: bounds.resumeBelowBytes,
        // ws's public pause/resume: they stop the socket's 'data' events (and ws's own
        // resume after its receiver drains respects the pause).
        pause: () => {
          this.logger.debug({ waiting: this.inbound.bytes }, 'inbound backlog full, pausing reads')
          this.ws.pause()
        },
        resume: () => {
          if (!this.closed) this.ws.resume()
        },
      },
    )
    if (grant.expiresAt !== undefined) {
      // setTimeout overflows past ~24.8 days; such a token outlives any realistic connection.
      const delay = Math.min(Math.max(0, grant.expiresAt - Date.now()), 2 ** 31 - 1)
      this.expiryTimer = setTimeout(() => this.close('tokenExpired'), delay)
    }
    ws.on('message', this.onMessage)
    ws.on('pong', () => {
      this.alive = true
    })
    ws.on('error', this.onError)
    ws.on('close', this.onClose)
  }

  /** Joins the room; from here on the client receives the doc and broadcasts. */
  start(): void {
    this.room.addConnection(this)
    if (this.options.beforeFirstMessage) this.inbound.push({ task: this.options.beforeFirstMessage }, 0)
    this.logger.debug({ readOnly: this.readOnly }, 'connection opened')
  }

  send(message: Uint8Array, type: OutgoingType): void {
    if (this.closed) return
    // A client that does not read would make ws buffer without bound. Updates cannot be
    // skipped for one client without it missing data, so cut it off; it resyncs by state
    // vector when it reconnects.
    if (!this.outgoing.send(message, type)) {
      this.metrics.slowClientDrops.inc()
      this.logger.warn({ buffered: this.outgoing.bufferedAmount }, 'client too slow, closing')
      this.close('tryAgainLater')
    }
  }

  /** The rest of a first sync, outside the send budget (see Outgoing.sendPaced). */
  sendPaced(messages: Iterable<Uint8Array>, type: OutgoingType): void {
    if (this.closed) return
    this.outgoing.sendPaced(messages, type)
  }

  /** Closes with a documented code; safe to call more than once. */
  close(code: CloseCodeName, detail?: string): void {
    if (this.closed) return
    this.closed = true
    this.metrics.closes.inc({ reason: code })
    const level = code === 'serviceRestart' || code === 'normal' ? 'debug' : 'info'
    this.logger[level]({ code: CloseCode[code], reason: code, detail }, 'closing connection')
    // What was sent before the close goes before the close frame, as with ws.send.
    this.outgoing.flush()
    this.ws.close(CloseCode[code], closeReason[code])
    // Read again (and discard: `closed` is set) so the peer's close frame gets through.
    if (this.ws.isPaused) this.ws.resume()
    // A peer that never answers the close handshake (or never drains its buffer) must not
    // hold the socket and its buffered bytes.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref()
    this.detach()
  }

  /**
   * Heartbeat tick: a connection that did not answer the previous ping is dead. While we do
   * not read its socket (inbound backlog full) its pong cannot reach us, so it counts as
   * alive: the pause is ours and ends when our own work drains, whatever the client does.
   */
  heartbeat(): void {
    if (this.closed) return
    if (!this.alive && !this.inbound.isPaused) {
      this.logger.info('no pong since last ping, terminating')
      this.metrics.closes.inc({ reason: 'heartbeatTimeout' satisfies ConnectionEndReason })
      this.closed = true
      this.ws.terminate()
      this.detach()
      return
    }
    this.alive = false
    this.outgoing.flush()
    this.ws.ping()
  }

  private readonly onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
    if (this.closed) return
    this.alive = true
    const bytes = toBytes(data)
    if (!this.inbound.push({ bytes, isBinary }, bytes.byteLength)) {
      this.reject('backlog-full', bytes.byteLength)
      this.close('tryAgainLater')
    }
  }

  /** Handles one frame; a promise means the next frame must wait for it. */
  private process(bytes: Uint8Array, isBinary: boolean): Promise<void> | undefined {
    if (this.closed) return undefined
    if (!isBinary) {
      this.reject('text-frame', bytes.byteLength)
      this.close('unsupportedData', 'text frames are not part of the protocol')
      return undefined
    }
    if (this.rate && !this.rate.take()) {
      this.reject('rate-limited', bytes.byteLength)
      this.close('policyViolation')
      return undefined
    }
    if (this.options.validateOffThread && bytes.byteLength >= OFF_THREAD_VALIDATION_BYTES) {
      // A room whose doc is in the big-doc worker validates there, without a copy here.
      const lent = this.room.validateOnDocThread(bytes)
      if (lent) return this.validateThenAccept(lent)
      return this.validateThenAccept(
        this.options.validateOffThread(bytes).then((verdict) => ({ verdict, message: bytes })),
      )
    }
    return this.accept(bytes, decodeClientMessage(bytes))
  }

  /** `validation`: the verdict and the message's bytes (handed back when they were lent). */
  private async validateThenAccept(
    validation: Promise<{ readonly verdict: ValidationVerdict; readonly message: Uint8Array }>,
  ): Promise<void> {
    let validated: { readonly verdict: ValidationVerdict; readonly message: Uint8Array }
    try {
      validated = await validation
    } catch (error) {
      this.logger.error({ err: error }, 'off-thread validation failed')
      this.close('internalError')
      return
    }
    const { verdict, message: bytes } = validated
    if (this.closed) return
    if (!verdict.ok) {
      this.reject(verdict.reason, bytes.byteLength)
      this.close('protocolError', verdict.detail)
      return
    }
    await this.accept(bytes, decodeClientMessage(bytes, { updateAlreadyValidated: true }))
  }

  private accept(
    bytes: Uint8Array,
    decoded: ReturnType<typeof decodeClientMessage>,
  ): Promise<void> | undefined {
    if (!decoded.ok) {
      this.reject(decoded.reason, bytes.byteLength)
      this.close('protocolError', decoded.detail)
      return undefined
    }
    const message = decoded.message
    this.metrics.received.add(message.kind, bytes.byteLength)
    if (message.kind === 'ignored') {
      this.metrics.rejectedInputs.inc({ reason: 'unknown-type' })
      return undefined
    }
    return this.dispatch(message)
  }

  /** The room's promise, when there is one, is its change hooks for this message's update. */
  private dispatch(message: ClientMessage): Promise<void> | undefined {
    return this.room.handleMessage(this, message) ?? undefined
  }

  private reject(reason: string, bytes: number): void {
    this.metrics.rejectedInputs.inc({ reason })
    this.logger.info({ reason, bytes }, 'rejected client message')
  }

  private readonly onError = (error: Error & { code?: string }): void => {
    // ws emits 'error' for protocol violations (e.g. a frame over maxPayload) and then
    // closes the socket itself (1009, 1002); without this listener the process would crash.
    const reason = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-big' : 'ws-error'
    this.metrics.rejectedInputs.inc({ reason })
    if (reason === 'too-big') this.metrics.closes.inc({ reason: 'messageTooBig' })
    this.logger.info({ code: error.code, err: error.message }, 'socket error')
    this.closed = true
    this.detach()
  }

  private readonly onClose = (): void => {
    this.closed = true
    this.detach()
  }

  private detached = false

  /** Leaves the room exactly once, however the connection ended. */
  private detach(): void {
    if (this.detached) return
    this.detached = true
    if (this.expiryTimer) clearTimeout(this.expiryTimer)
    this.inbound.stop()
    this.outgoing.stop()
    this.room.removeConnection(this)
    this.options.onClosed(this)
  }
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}
