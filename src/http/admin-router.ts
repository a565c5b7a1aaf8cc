/**
 * Serves a table of admin routes under /admin/, behind `Authorization: Bearer ADMIN_TOKEN`.
 * Disabled (404) when ADMIN_TOKEN is unset. A user JWT never works here: the admin token is a
 * separate secret compared in constant time, not a JWT.
 *
 * The table (admin-routes.ts, document-routes.ts) is the one source of truth: matching, the
 * 405 (with `Allow`) for a known path asked with another method, the 404 for anything else, the `action` label of `yws_admin_requests_total` and the docs-sync
 * test all derive from it, so a route is written once.
 *
 * A pattern is a path of literal segments and `<param>` segments; a `<param>` matches exactly
 * one raw segment, percent-decoded after matching (so a doc name holding `/` is sent as `%2F`
 * and never confused with a deeper route). The raw path is matched without normalisation:
 * `/admin/docs/../drain` is not `/admin/drain`.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { bearerToken } from '../bearer-token.js'
import {
  decodeDocName,
  escapesAreUtf8,
  NOT_PERCENT_ENCODING,
  NOT_PERCENT_ENCODING_QUERY,
} from '../doc-name.js'
import type { Metrics } from '../observability/metrics.js'
import type { RouteHandler } from './http-routes.js'
import { sendJson } from './http-routes.js'

/** What a route's `parse` sees. */
export interface AdminRequest {
  readonly request: IncomingMessage
  /** The `<param>` segments of the pattern, percent-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
}

/** A refusal from `parse`: answered as `{ error }` with `status` (4xx); nothing was done. */
export interface Refusal {
  readonly status: number
  readonly error: string
}

export type Parsed<I> = { readonly ok: true; readonly input: I } | ({ readonly ok: false } & Refusal)

/** One admin route: where it lives, how its input is validated, what it does. */
export interface AdminRoute<I = unknown> {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** e.g. `/admin/docs/<doc>`; also the metric label and the docs entry. */
  readonly pattern: string
  /** One line for the docs table. */
  readonly summary: string
  /**
   * The query parameters the route reads (default none). Any other, or one given twice, is
   * a 400 before `parse`: a misspelt `?fromat=json` must not quietly mean the default.
   */
  readonly query?: readonly string[]
  /** Validates everything before anything happens; a refusal changes nothing. */
  parse(request: AdminRequest): Promise<Parsed<I>> | Parsed<I>
  /** Does the work and answers. Only called with what `parse` accepted. */
  run(input: I, response: ServerResponse, request: IncomingMessage): Promise<void> | void
}

/** Keeps a route's input type between its parse and run while it sits in a mixed table. */
export function defineRoute<I>(route: AdminRoute<I>): AdminRoute {
  return route as AdminRoute
}

export const accept = <I>(input: I): Parsed<I> => ({ ok: true, input })
export const refuse = (status: number, error: string): Parsed<never> => ({ ok: false, status, error })

/** `GET /admin/docs/<doc>`: the route's identity in metrics and docs. */
export function routeKey(route: Pick<AdminRoute, 'method' | 'pattern'>): string {
  return `${route.method} ${route.pattern}`
}

interface Match {
  readonly route: AdminRoute
  readonly params: Record<string, string>
}

type Lookup = { readonly match: Match } | { readonly error: string }

/**
 * Finds the route for a raw path. Literal segments win over `<param>` segments at the same
 * place, so `GET /admin/docs` and `GET /admin/docs/<doc>` never compete.
 */
export function matchRoute(routes: readonly AdminRoute[], method: string, path: string): Lookup | undefined {
  const segments = path.split('/')
  let best: { route: AdminRoute; raw: Record<string, string>; literals: number } | undefined
  for (const route of routes) {
    if (route.method !== method) continue
    const parts = route.pattern.split('/')
    if (parts.length !== segments.length) continue
    const raw: Record<string, string> = {}
    let literals = 0
    let fits = true
    for (let i = 0; i < parts.length && fits; i++) {
      const part = parts[i]!
      const segment = segments[i]!
      if (part.startsWith('<') && part.endsWith('>')) {
        if (segment === '') fits = false
        else raw[part.slice(1, -1)] = segment
      } else if (part === segment) literals += 1
      else fits = false
    }
    if (fits && (!best || literals > best.literals)) best = { route, raw, literals }
  }
  if (!best) return undefined
  const params: Record<string, string> = {}
  for (const [name, segment] of Object.entries(best.raw)) {
    // The WebSocket path's decoder, so a name reaches the same doc (and fails with the same
    // message) on both: a stray `%` is literal, escapes that are not UTF-8 are refused.
    const decoded = decodeDocName(segment)
    if (decoded === undefined) {
      return { error: name === 'doc' ? NOT_PERCENT_ENCODING : `${name} is not valid percent-encoding` }
    }
    params[name] = decoded
  }
  return { match: { route: best.route, params } }
}

/** The methods some route of the table serves at `path` (for a 405's `Allow`), in table order. */
export function allowedMethods(routes: readonly AdminRoute[], path: string): string[] {
  const methods = [...new Set(routes.map((route) => route.method))]
  return methods.filter((method) => matchRoute(routes, method, path) !== undefined)
}

/** The HTTP handler for a route table (mounted on PORT, or on ADMIN_PORT alone). */
export function adminRouter(
  adminToken: string | undefined,
  routes: readonly AdminRoute[],
  metrics: Metrics,
): RouteHandler {
  const expected = adminToken ? digest(adminToken) : undefined
  return async (request, response) => {
    const target = request.url ?? ''
    // Only origin-form paths: `//host/admin/x` or an absolute URL is not ours to serve.
    if (!target.startsWith('/admin/')) return false
    const queryAt = target.indexOf('?')
    const path = queryAt < 0 ? target : target.slice(0, queryAt)
    const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1)
    const query = new URLSearchParams(rawQuery)
    const lookup = matchRoute(routes, request.method ?? '', path)
    // The label is a pattern from the table or 'unknown': a scanner cannot blow up cardinality.
    const label = lookup && 'match' in lookup ? routeKey(lookup.match.route) : 'unknown'
    response.once('finish', () =>
      metrics.adminRequests.inc({ action: label, status: String(response.statusCode) }),
    )
    if (!expected) {
      sendJson(response, 404, { error: 'admin endpoints are disabled (ADMIN_TOKEN unset)' })
      return true
    }
    // Comparing fixed-length digests keeps the comparison constant-time and does not leak
    // the token's length either.
    // The scheme is case-insensitive (RFC 7235 §2.1): `bearer <token>` is as good as `Bearer`.
    const given = digest(bearerToken(request.headers.authorization) ?? '')
    if (!timingSafeEqual(given, expected)) {
      metrics.authFailures.inc({ reason: 'admin-token' })
      response.setHeader('WWW-Authenticate', 'Bearer realm="admin"')
      sendJson(response, 401, { error: 'admin token required' })
      return true
    }
    if (!lookup) {
      const allowed = allowedMethods(routes, path)
      if (allowed.length === 0) {
        // The usual cause under /admin/docs/: a doc name with a raw `/` spans two segments.
        const hint = path.startsWith('/admin/docs/')
          ? '; a doc name is one path segment: encode / as %2F (/admin/docs/team%2Fnotes)'
          : ''
        sendJson(response, 404, { error: `no admin action ${request.method} ${path}${hint}` })
        return true
      }
      response.setHeader('Allow', allowed.join(', '))
      sendJson(response, 405, {
        error: `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`,
      })
      return true
    }
    if ('error' in lookup) {
      sendJson(response, 400, { error: lookup.error })
      return true
    }
    const { route, params } = lookup.match
    const queryProblem = escapesAreUtf8(rawQuery) ? unknownQuery(route, query) : NOT_PERCENT_ENCODING_QUERY
    if (queryProblem) {
      sendJson(response, 400, { error: queryProblem })
      return true
    }
    const parsed = await route.parse({ request, params, query })
    if (!parsed.ok) {
      sendJson(response, parsed.status, { error: parsed.error })
      return true
    }
    await route.run(parsed.input, response, request)
    return true
  }
}

/** Why the query does not fit the route's declared parameters, or undefined. */
export function unknownQuery(route: Pick<AdminRoute, 'query'>, query: URLSearchParams): string | undefined {
  const known = route.query ?? []
  const seen = new Set<string>()
  for (const name of query.keys()) {
    if (!known.includes(name)) {
      const expected = known.length > 0 ? `expected ${known.join(', ')}` : 'this route takes none'
      return `unknown query parameter ${JSON.stringify(name)} (${expected})`
    }
    if (seen.has(name)) return `query parameter ${JSON.stringify(name)} is given more than once`
    seen.add(name)
  }
  return undefined
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
