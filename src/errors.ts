/**
 * The error catalogue: every error the server raises to a caller (library user, HTTP client)
 * carries a stable `code` from this table, the HTTP status it maps to, and a `cause` when it
 * wraps another error. Codes never change meaning; messages may gain detail. WebSocket close
 * codes have their own table (protocol/close-codes.ts) because they travel on the wire.
 * docs/library.md lists these codes; a test keeps the two in sync.
 */

export const ErrorCodes = {
  /** The server (or the part asked) was closed; nothing was done. */
  YWS_ERR_CLOSED: { status: 503, message: 'the server is closed' },
  /** A direct connection was used after `disconnect()` (or after the server closed). */
  YWS_ERR_DISCONNECTED: { status: 409, message: 'this direct connection is disconnected' },
  /** A document name breaks the rules (1-512 UTF-8 bytes, no control characters). */
  YWS_ERR_DOC_NAME: { status: 400, message: 'invalid document name' },
  /** A document could not be opened (storage failure, `onLoadDocument` threw, open-docs cap). */
  YWS_ERR_DOC_UNAVAILABLE: { status: 503, message: 'document unavailable' },
  /** Bytes given as a Yjs update do not decode as one; nothing was applied. */
  YWS_ERR_BAD_UPDATE: { status: 400, message: 'not a valid Yjs update' },
  /** The document or version asked for is held nowhere. */
  YWS_ERR_NOT_FOUND: { status: 404, message: 'no such document or version' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ErrorCodes

/** An error with a stable code from the catalogue. */
export class YwsError extends Error {
  override name = 'YwsError'
  readonly code: ErrorCode
  /** The HTTP status this error answers with. */
  readonly status: number

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; status?: number }) {
    const entry = ErrorCodes[code]
    super(detail ? `${entry.message}: ${detail}` : entry.message, { cause: options?.cause })
    this.code = code
    this.status = options?.status ?? entry.status
  }
}
