/**
 * Every WebSocket close code this server sends, in one place, with the reason text that
 * goes with it. Standard codes (RFC 6455 §7.4.1) where one fits; 4xxx codes (reserved for
 * applications) where a client must be able to tell the cases apart. Documented in
 * docs/protocol.md; a test keeps the two in sync.
 */
export const CloseCode = {
  /** Normal close: the server evicted the document on an operator's request. */
  normal: 1000,
  /** Malformed binary message: bad varints, truncated payload, invalid Yjs update. */
  protocolError: 1002,
  /** A text frame, or a message type the server cannot accept. */
  unsupportedData: 1003,
  /** Policy violation: message rate exceeded. */
  policyViolation: 1008,
  /**
   * A single message larger than MAX_MESSAGE_BYTES. Sent by `ws` itself (its maxPayload
   * check), never by our code; named here so clients, docs and the metric share one name.
   */
  messageTooBig: 1009,
  /** The server failed while handling this connection (e.g. storage error). */
  internalError: 1011,
  /** Graceful shutdown or drain: reconnect (to this or another instance). */
  serviceRestart: 1012,
  /** The client could not keep up: its unsent bytes passed MAX_BUFFERED_BYTES. Reconnect resyncs. */
  tryAgainLater: 1013,
  /** The connection's token expired; reconnect with a fresh one. */
  tokenExpired: 4001,
  /** An operator revoked this connection's access. */
  accessRevoked: 4003,
  /** The document was deleted (admin DELETE); stock y-websocket ≥ 3.1 stops reconnecting on 44xx. */
  documentDeleted: 4404,
  /** The update would grow the document past MAX_DOC_BYTES; it was not applied. */
  documentTooLarge: 4413,
} as const

export type CloseCodeName = keyof typeof CloseCode

/**
 * How a connection can end, as counted in `yws_connection_closes_total{reason}`: every close
 * code above, plus `heartbeatTimeout` — a peer that missed a pong is terminated without a
 * close frame (it is unreachable; its client sees 1006 and reconnects).
 */
export type ConnectionEndReason = CloseCodeName | 'heartbeatTimeout'

export const closeReason: Record<CloseCodeName, string> = {
  normal: 'document closed',
  protocolError: 'malformed message',
  unsupportedData: 'unsupported message',
  policyViolation: 'message rate exceeded',
  messageTooBig: 'message too big',
  internalError: 'internal error',
  serviceRestart: 'server restarting',
  tryAgainLater: 'client too slow',
  tokenExpired: 'token expired',
  accessRevoked: 'access revoked',
  documentDeleted: 'document deleted',
  documentTooLarge: 'document too large',
}
