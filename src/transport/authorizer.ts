/**
 * Decides at the HTTP upgrade whether a request may open a document, and how. With neither
 * AUTH_SECRET nor AUTH_JWKS_URL everyone may write (the server warns loudly at start).
 * Otherwise a valid JWT (HS256 with the secret, or an identity provider's RS256/ES256/EdDSA
 * checked by token-verifier.ts) must grant the doc: claim `docs` lists exact names or
 * `prefix*` patterns (`*` = all), optional claim `mode` is `write` (default) or `read`;
 * `exp` is required. Tokens an operator revoked (see RevocationList) are refused like
 * expired ones.
 */
import type { IncomingMessage } from 'node:http'
import { parseCookie } from 'cookie'
import { bearerToken } from '../bearer-token.js'
import type { AccessGrant } from './access-grant.js'
import type { RevocationList } from './revocation-list.js'
import { secretVerifier, type TokenVerifier } from './token-verifier.js'

export type AuthFailureReason =
  | 'missing-token'
  | 'invalid-token'
  | 'expired-token'
  | 'token-without-exp'
  | 'revoked-token'
  | 'no-docs-claim'
  | 'doc-not-granted'
  | 'bad-mode-claim'
  | 'jwks-unavailable'

export type AuthResult =
  | { readonly ok: true; readonly grant: AccessGrant }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: AuthFailureReason }

export interface Authorizer {
  authorize(request: IncomingMessage, docName: string): Promise<AuthResult>
}

export const openAuthorizer: Authorizer = {
  authorize: async () => ({ ok: true, grant: { readOnly: false } }),
}

/** The subprotocol prefix that carries a token (browsers cannot set headers on a WebSocket). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'yauth-'

export class JwtAuthorizer implements Authorizer {
  private readonly verifier: TokenVerifier

  /** `verifier`: an AUTH_SECRET string (HS256), or any TokenVerifier (JWKS, both). */
  constructor(
    verifier: TokenVerifier | string,
    private readonly revocations?: RevocationList,
  ) {
    this.verifier = typeof verifier === 'string' ? secretVerifier(verifier) : verifier
  }

  async authorize(request: IncomingMessage, docName: string): Promise<AuthResult> {
    const token = tokenFromRequest(request)
    if (!token) return { ok: false, status: 401, reason: 'missing-token' }
    const verified = await this.verifier.verify(token)
    if (!verified.ok) return { ok: false, status: 401, reason: verified.reason }
    const payload: Record<string, unknown> = verified.payload
    if (typeof payload.exp !== 'number') return { ok: false, status: 401, reason: 'token-without-exp' }
    const subject = typeof payload.sub === 'string' ? payload.sub : undefined
    const issuedAt = typeof payload.iat === 'number' ? payload.iat : undefined
    if (this.revocations?.isRevoked(docName, subject, issuedAt)) {
      return { ok: false, status: 401, reason: 'revoked-token' }
    }
    const docs = payload.docs
    if (!Array.isArray(docs) || !docs.every((pattern) => typeof pattern === 'string')) {
      return { ok: false, status: 403, reason: 'no-docs-claim' }
    }
    if (!docs.some((pattern: string) => docMatches(pattern, docName))) {
      return { ok: false, status: 403, reason: 'doc-not-granted' }
    }
    const mode = payload.mode ?? 'write'
    if (mode !== 'write' && mode !== 'read') return { ok: false, status: 403, reason: 'bad-mode-claim' }
    return {
      ok: true,
      grant: {
        readOnly: mode === 'read',
        expiresAt: payload.exp * 1000,
        subject,
        ...(subject !== undefined ? { user: { id: subject } } : {}),
      },
    }
  }
}

/** `*` grants every doc; `prefix*` every doc starting with prefix; anything else is exact. */
export function docMatches(pattern: string, docName: string): boolean {
  if (pattern.endsWith('*')) return docName.startsWith(pattern.slice(0, -1))
  return pattern === docName
}

/**
 * The token from (first match wins) `?token=`, `Authorization: Bearer`, a `yauth-`
 * subprotocol, or cookie `token`. Never logs anything: every carrier is a secret.
 */
export function tokenFromRequest(request: IncomingMessage): string | undefined {
  const url = request.url ?? ''
  // Everything after the first `?` (a doc name's own `?` is percent-encoded).
  const queryStart = url.indexOf('?')
  const fromQuery = queryStart >= 0 ? new URLSearchParams(url.slice(queryStart + 1)).get('token') : null
  if (fromQuery) return fromQuery
  const fromHeader = bearerToken(request.headers.authorization)
  if (fromHeader) return fromHeader
  const fromProtocol = tokenSubprotocol(request.headers['sec-websocket-protocol'])
  if (fromProtocol) return fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length)
  const cookie = request.headers.cookie
  if (cookie) {
    // The maintained parser splits and percent-decodes per RFC 6265 (a hand-rolled split
    // did not decode); our decoder also drops the optional DQUOTEs around a value and
    // skips empty values, so `token=; token=<JWT>` still finds the JWT.
    const value = parseCookie(cookie, { decode: decodeCookieValue }).token
    if (value) return value
  }
  return undefined
}

/** The first `yauth-<JWT>` entry of a Sec-WebSocket-Protocol header, as sent. */
export function tokenSubprotocol(header: string | undefined): string | undefined {
  if (!header) return undefined
  for (const entry of header.split(',')) {
    const protocol = entry.trim()
    if (protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX) && protocol.length > TOKEN_SUBPROTOCOL_PREFIX.length) {
      return protocol
    }
  }
  return undefined
}

function decodeCookieValue(raw: string): string | undefined {
  const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw
  if (unquoted === '') return undefined
  try {
    return decodeURIComponent(unquoted)
  } catch {
    return unquoted // not percent-encoding after all: a JWT never contains `%`, so use it as sent
  }
}
