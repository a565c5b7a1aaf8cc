/**
 * The error catalogue: every error that crosses a module boundary or reaches a user (library
 * caller, HTTP client, WebSocket client, operator at the CLI) carries a stable `code` from
 * this table, with what it maps to on each surface: the HTTP `status`, the WebSocket `close`
 * code (by name, protocol/close-codes.ts) when it ends a connection, the CLI `exit` code when
 * it ends a command. Codes never change meaning; messages may gain detail. A `cause` is kept
 * when an error wraps another.
 *
 * Named classes (`DocumentTooLargeError`, `StoreLockedError`, ...) are subclasses of YwsError
 * with a fixed code, so both `instanceof` and `error.code` work; their message is the detail
 * as given (those messages already say what happened, and operators grep for them).
 *
 * Not in this table, on purpose: how a WebSocket connection ends is the close-code table's
 * job (protocol/close-codes.ts, docs/protocol.md). Two of its names have no error behind
 * them: `messageTooBig` (1009) is sent by `ws` itself when a frame passes maxPayload
 * (MAX_MESSAGE_BYTES), never by our code; `heartbeatTimeout` is no close code at all (a peer
 * that missed a pong is terminated without a close frame, its client sees 1006) and is only
 * counted, as `yws_connection_closes_total{reason="heartbeatTimeout"}`.
 *
 * docs/library.md lists these codes; test/unit/error-catalogue.test.ts keeps the two in sync.
 */
import type { CloseCodeName } from './protocol/close-codes.js'

interface CatalogueEntry {
  /** The HTTP status it answers with. */
  readonly status: number
  /** The WebSocket close code (by name) when it ends a client's connection. */
  readonly close?: CloseCodeName
  /** The CLI exit code when it ends a command (src/cli/exit-codes.ts). */
  readonly exit?: number
  readonly message: string
}

export const ErrorCodes = {
  /** The server (or the part asked) was closed; nothing was done. */
  YWS_ERR_CLOSED: { status: 503, close: 'serviceRestart', message: 'the server is closed' },
  /** A direct connection was used after `disconnect()` (or after the server closed). */
  YWS_ERR_DISCONNECTED: { status: 409, message: 'this direct connection is disconnected' },
  /** A document name breaks the rules (1-512 UTF-8 bytes, no control characters). */
  YWS_ERR_DOC_NAME: { status: 400, message: 'invalid document name' },
  /** A version to restore holds changes the document never saw (deleted and re-created since). */
  YWS_ERR_NOT_AN_ANCESTOR: { status: 409, message: 'the version is not a past state of this document' },
  /** A document could not be opened (storage failure, `onLoadDocument` threw, open-docs cap). */
  YWS_ERR_DOC_UNAVAILABLE: { status: 503, message: 'document unavailable' },
  /** Bytes given as a Yjs update do not decode as one; nothing was applied. */
  YWS_ERR_BAD_UPDATE: { status: 400, close: 'protocolError', message: 'not a valid Yjs update' },
  /** The document or version asked for is held nowhere. */
  YWS_ERR_NOT_FOUND: { status: 404, message: 'no such document or version' },
  /** The update would grow the document past MAX_DOC_BYTES; it was not applied. */
  YWS_ERR_DOC_TOO_LARGE: {
    status: 413,
    close: 'documentTooLarge',
    message: 'the update would grow the document past MAX_DOC_BYTES',
  },
  /** MAX_OPEN_DOCS documents are open; a new one cannot be loaded until one unloads. */
  YWS_ERR_TOO_MANY_DOCS: { status: 503, message: 'too many documents open (MAX_OPEN_DOCS)' },
  /** A version label that is not a short printable string. */
  YWS_ERR_BAD_LABEL: { status: 400, message: 'invalid version label' },
  /** Redis cannot be reached or aborted a transaction: a delete (which must reach every instance) is refused; the relay retries. */
  YWS_ERR_CLUSTER_UNAVAILABLE: { status: 503, message: 'the cluster cannot be reached' },
  /** A compacted snapshot did not hold the same document as the log; nothing was written. */
  YWS_ERR_VERIFICATION: { status: 500, message: 'compaction verification failed' },
  /** Another process (a running instance) holds the data directory's LevelDB lock. */
  YWS_ERR_STORE_LOCKED: { status: 503, exit: 3, message: 'the data directory is locked' },
  /** This user may not read or write the data directory (EACCES/EPERM). */
  YWS_ERR_STORE_ACCESS: { status: 503, exit: 4, message: 'permission denied on the data directory' },
  /** The data directory cannot be opened for another reason (not a directory, mkdir failed, LevelDB refused). */
  YWS_ERR_STORE_OPEN: { status: 503, exit: 1, message: 'the data directory cannot be opened' },
  /** A write to a store opened read-only (the offline tools' reads); a bug, nothing was written. */
  YWS_ERR_READ_ONLY: { status: 500, message: 'the store was opened read-only' },
  /** HOST/PORT (or ADMIN_PORT) cannot be bound: no such address, in use, or privileged. */
  YWS_ERR_LISTEN: { status: 500, exit: 1, message: 'cannot listen on the configured address' },
  /** `onAuthenticate` refused the connection (status 401, or 403 when the hook says so). */
  YWS_ERR_UNAUTHENTICATED: { status: 401, message: 'not authenticated' },
  /** A setting or option with a bad value; the message names it. */
  YWS_ERR_CONFIG: { status: 500, exit: 1, message: 'invalid configuration' },
  /** CLI: a bad command line (usage is printed). */
  YWS_ERR_USAGE: { status: 400, exit: 2, message: 'bad command line' },
  /** CLI: the running instance a command talks to answered an error. */
  YWS_ERR_ADMIN_REQUEST: { status: 502, exit: 1, message: 'the instance refused the request' },
  /** Something we stored (a counter in Redis or LevelDB) does not read back as what we write; nothing was guessed. */
  YWS_ERR_CORRUPT: { status: 500, message: 'stored state is malformed' },
  /** CLI: the instance cannot be used at all (unreachable, token refused): the run stops. */
  YWS_ERR_TARGET_UNAVAILABLE: { status: 502, exit: 1, message: 'the instance cannot be used' },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ErrorCodes

export interface YwsErrorOptions {
  readonly cause?: unknown
  /** Overrides the catalogue's status (an `AuthenticationError` may say 403). */
  readonly status?: number
  /** The whole message, for named subclasses whose detail already says what happened. */
  readonly message?: string
}

/** An error with a stable code from the catalogue. */
export class YwsError extends Error {
  override name = 'YwsError'
  readonly code: ErrorCode
  /** The HTTP status this error answers with. */
  readonly status: number
  /** The WebSocket close code (by name) when it ends a connection. */
  readonly closeCode: CloseCodeName | undefined
  /** The CLI exit code when it ends a command. */
  readonly exitCode: number | undefined

  constructor(code: ErrorCode, detail?: string, options: YwsErrorOptions = {}) {
    const entry: CatalogueEntry = ErrorCodes[code]
    super(options.message ?? (detail ? `${entry.message}: ${detail}` : entry.message), {
      cause: options.cause,
    })
    this.code = code
    this.status = options.status ?? entry.status
    this.closeCode = entry.close
    this.exitCode = entry.exit
  }
}

/** A named error with a fixed code: `new XError(message, { cause })`. */
function named(code: ErrorCode, name: string) {
  return class extends YwsError {
    constructor(message?: string, options: { cause?: unknown } = {}) {
      super(code, undefined, { ...options, ...(message !== undefined ? { message } : {}) })
      this.name = name
    }
  }
}

/** An update that would grow the document past MAX_DOC_BYTES; nothing was applied. */
export class DocumentTooLargeError extends named('YWS_ERR_DOC_TOO_LARGE', 'DocumentTooLargeError') {}
/** MAX_OPEN_DOCS reached (room registry). */
export class TooManyDocsError extends named('YWS_ERR_TOO_MANY_DOCS', 'TooManyDocsError') {}
/** The doc does not exist (nothing stored anywhere): 404. */
export class NoSuchDocError extends named('YWS_ERR_NOT_FOUND', 'NoSuchDocError') {}

/**
 * The one wording of "no such document", shared by HTTP 404 bodies, library errors and the
 * CLI: the name JSON-quoted, so an empty, spaced or odd name reads unambiguously. Example:
 * `no document named "team/notes"`.
 */
export function noSuchDocMessage(docName: string): string {
  return `no document named ${JSON.stringify(docName)}`
}
/** No checkpoint with that id for that doc: 404. */
export class NoSuchVersionError extends named('YWS_ERR_NOT_FOUND', 'NoSuchVersionError') {}
/** A label that is not a short printable string: 400. */
export class BadLabelError extends named('YWS_ERR_BAD_LABEL', 'BadLabelError') {}
/** The cluster's shared state cannot be reached, so an operation that must reach every instance is refused. */
export class ClusterUnavailableError extends named(
  'YWS_ERR_CLUSTER_UNAVAILABLE',
  'ClusterUnavailableError',
) {}
/** A compacted snapshot differs from the log it replaces. */
export class VerificationError extends named('YWS_ERR_VERIFICATION', 'VerificationError') {}
/** Another process (a running instance) holds the directory's LevelDB lock. */
export class StoreLockedError extends named('YWS_ERR_STORE_LOCKED', 'StoreLockedError') {}
/** This process may not read or write the directory (EACCES / EPERM). */
export class StoreAccessError extends named('YWS_ERR_STORE_ACCESS', 'StoreAccessError') {}
/** A setting with a bad value; the message names the environment variable or option. */
export class ConfigError extends named('YWS_ERR_CONFIG', 'ConfigError') {}
/** A bad command line; the CLI prints usage and exits 2. */
export class UsageError extends named('YWS_ERR_USAGE', 'UsageError') {}
/** The compaction target cannot be used at all (unreachable, token refused): stop the run. */
export class TargetUnavailableError extends named('YWS_ERR_TARGET_UNAVAILABLE', 'TargetUnavailableError') {}

/** A stored value that does not read back as what we write (the message names the key and the value). */
export class CorruptStateError extends named('YWS_ERR_CORRUPT', 'CorruptStateError') {}

/** A version that holds changes the document never saw: restoring it would wait forever: 409. */
export class NotAnAncestorError extends named('YWS_ERR_NOT_AN_ANCESTOR', 'NotAnAncestorError') {}
/** The data directory cannot be opened (other than locked or permission denied); exit 1. */
export class StoreOpenError extends named('YWS_ERR_STORE_OPEN', 'StoreOpenError') {}
/** A write to a store opened read-only. */
export class ReadOnlyStoreError extends named('YWS_ERR_READ_ONLY', 'ReadOnlyStoreError') {}
/** A bind failure reworded to name the setting (HOST, PORT, ADMIN_PORT); the cause is kept. */
export class ListenError extends named('YWS_ERR_LISTEN', 'ListenError') {}

/**
 * The HTTP status an error answers with: a catalogued error's own (YwsError.status), 500 for
 * anything else. The one place a route or an upgrade turns an error into a status.
 */
export function httpStatusOf(error: unknown): number {
  return error instanceof YwsError ? error.status : 500
}

/**
 * The WebSocket close code (by name) an error ends a client's connection with: a catalogued
 * error's own (YwsError.closeCode), `internalError` (1011) for anything else, a catalogued
 * error without one included. The one place a connection turns an error into a close code.
 */
export function closeCodeOf(error: unknown): CloseCodeName {
  return (error instanceof YwsError && error.closeCode) || 'internalError'
}

/** The instance could not be used: unreachable, refused the token, or answered an error. */
export class AdminRequestError extends YwsError {
  override name = 'AdminRequestError'
  constructor(
    message: string,
    /** The instance's JSON answer, when it sent one. */
    readonly body?: Record<string, unknown>,
  ) {
    super('YWS_ERR_ADMIN_REQUEST', undefined, { message })
  }
}

/**
 * Throw from `onAuthenticate` to refuse a connection with a status: 401 (not authenticated,
 * the default for any error) or 403 (authenticated but not allowed this document).
 */
export class AuthenticationError extends YwsError {
  override name = 'AuthenticationError'
  declare readonly status: 401 | 403
  constructor(message = 'not authenticated', status: 401 | 403 = 401) {
    super('YWS_ERR_UNAUTHENTICATED', undefined, { message, status })
  }
}
