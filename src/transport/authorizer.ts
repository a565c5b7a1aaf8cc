/**
 * Decides at the HTTP upgrade whether a request may open a document, and how. With no
 * AUTH_SECRET everyone may write (the server warns loudly at start). With one, a valid
 * HS256 JWT must grant the doc: claim `docs` lists exact names or `prefix*` patterns
 * (`*` = all), optional claim `mode` is `write` (default) or `read`.
 */
import type { IncomingMessage } from 'node:http'
import { errors as joseErrors, jwtVerify } from 'jose'
import type { AccessGrant } from './connection.js'

export type AuthResult =
  | { readonly ok: true; readonly grant: AccessGrant }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string }

export interface Authorizer {
  authorize(request: IncomingMessage, docName: string): Promise<AuthResult>
}

export const openAuthorizer: Authorizer = {
  authorize: async () => ({ ok: true, grant: { readOnly: false } }),
}

export class JwtAuthorizer implements Authorizer {
  private readonly key: Uint8Array

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret)
  }

  async authorize(request: IncomingMessage, docName: string): Promise<AuthResult> {
    const token = tokenFromRequest(request)
    if (!token) return { ok: false, status: 401, reason: 'missing-token' }
    let payload: Record<string, unknown>
    try {
      // Pinning the algorithm rejects `none` and every asymmetric/confused-key variant.
      ;({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], clockTolerance: 0 }))
    } catch (error) {
      const reason = error instanceof joseErrors.JWTExpired ? 'expired-token' : 'invalid-token'
      return { ok: false, status: 401, reason }
    }
    if (typeof payload.exp !== 'number') return { ok: false, status: 401, reason: 'token-without-exp' }
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
        subject: typeof payload.sub === 'string' ? payload.sub : undefined,
      },
    }
  }
}

/** `*` grants every doc; `prefix*` every doc starting with prefix; anything else is exact. */
export function docMatches(pattern: string, docName: string): boolean {
  if (pattern.endsWith('*')) return docName.startsWith(pattern.slice(0, -1))
  return pattern === docName
}

/** The token from `?token=`, `Authorization: Bearer`, a `yauth-` subprotocol, or cookie `token`. */
export function tokenFromRequest(request: IncomingMessage): string | undefined {
  const query = (request.url ?? '').split('?')[1]
  const fromQuery = query ? new URLSearchParams(query).get('token') : null
  if (fromQuery) return fromQuery
  const authorization = request.headers.authorization
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match) return match[1]
  }
  const protocols = request.headers['sec-websocket-protocol']
  if (protocols) {
    for (const protocol of protocols.split(',')) {
      const trimmed = protocol.trim()
      if (trimmed.startsWith('yauth-') && trimmed.length > 6) return trimmed.slice(6)
    }
  }
  const cookie = request.headers.cookie
  if (cookie) {
    for (const part of cookie.split(';')) {
      const separator = part.indexOf('=')
      if (separator > 0 && part.slice(0, separator).trim() === 'token') {
        const value = part.slice(separator + 1).trim()
        if (value) return value
      }
    }
  }
  return undefined
}
