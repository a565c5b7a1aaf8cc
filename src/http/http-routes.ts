/**
 * Plain HTTP on the WebSocket port: liveness, readiness and Prometheus metrics. Admin
 * routes are mounted by the caller (here or on a separate admin port).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { httpStatusOf, YwsError } from '../errors.js'
import type { Metrics } from '../observability/metrics.js'

export interface HealthSource {
  /** Storage open and not draining: this instance serves editors (at least locally). */
  isReady(): boolean
  /** true standalone or while the relay reaches Redis in time; false while it does not. */
  relayConnected(): boolean
  /** Why not ready, for humans reading /readyz. */
  readinessDetail(): Record<string, boolean>
}

/** What `/readyz` answers: the status code and its JSON body. */
export interface Readiness {
  readonly status: 200 | 503
  readonly body: {
    /** `degraded`: ready locally, Redis away, and the probe passed `?allowDegraded`. */
    readonly status: 'ready' | 'degraded' | 'not ready'
    /** Why not (fully) ready: `draining`, `storage closed` or `redis disconnected`; absent when ready. */
    readonly reason?: string
    readonly [detail: string]: unknown
  }
}

/**
 * `/readyz` per the contract: 200 when storage is open (and not draining) and, when a relay
 * is configured, Redis is connected; 503 otherwise, the body saying why. `allowDegraded` in
 * the query is the opt-in extension: 200 `degraded` while only Redis is away, for operators
 * who would rather keep local editing in rotation than lose every instance to a Redis outage
 * (docs/operations.md). `strict` is accepted as a no-op alias of the default, and wins over
 * `allowDegraded` when both are given (it asks for the stricter answer).
 * @param query the request's query parameters (values are ignored, only presence counts).
 */
export function readiness(health: HealthSource, query: URLSearchParams): Readiness {
  const detail = health.readinessDetail()
  if (!health.isReady()) {
    const reason = detail.draining ? 'draining' : 'storage closed'
    return { status: 503, body: { status: 'not ready', reason, ...detail } }
  }
  if (health.relayConnected()) return { status: 200, body: { status: 'ready', ...detail } }
  const reason = 'redis disconnected'
  if (query.has('allowDegraded') && !query.has('strict')) {
    return { status: 200, body: { status: 'degraded', reason, ...detail } }
  }
  return { status: 503, body: { status: 'not ready', reason, ...detail } }
}

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean> | boolean

export function publicRoutes(health: HealthSource, metrics: Metrics): RouteHandler {
  return async (request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') return false
    switch (path) {
      case '/healthz':
        sendJson(response, 200, { status: 'ok' })
        return true
      case '/readyz': {
        const answer = readiness(health, new URL(request.url ?? '/', 'http://x').searchParams)
        metrics.ready.set(answer.status === 200 ? 1 : 0)
        sendJson(response, answer.status, answer.body)
        return true
      }
      case '/metrics': {
        metrics.ready.set(readiness(health, new URLSearchParams()).status === 200 ? 1 : 0)
        const body = await metrics.registry.metrics()
        response.writeHead(200, { 'Content-Type': metrics.registry.contentType })
        response.end(body)
        return true
      }
      default:
        return false
    }
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  response.end(text)
}

/**
 * The first route that handles the request answers it; resolves false when none did (the
 * caller answers 404, or passes the request on when mounted in another app). A thrown error
 * is answered by errorAnswer; a 500 (a bug, or a catalogued internal failure) is also
 * reported, a catalogued 503 (closing, too many docs, Redis away) is an expected condition.
 */
export function routeRequest(routes: readonly RouteHandler[], onError: (error: unknown) => void) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    try {
      for (const route of routes) if (await route(request, response)) return true
      return false
    } catch (error) {
      const answer = errorAnswer(error)
      if (answer.status === 500) onError(error)
      if (!response.headersSent) sendJson(response, answer.status, answer.body)
      else response.destroy()
      return true
    }
  }
}

/**
 * How a route's thrown error is answered: a catalogued error (errors.ts) with its own status
 * and message (`NoSuchDocError` 404, `DocumentTooLargeError` 413, `TooManyDocsError` 503, ...),
 * so routes need not map errors themselves; anything else is a 500 that says nothing more
 * (the message may hold internals; the log has it).
 */
export function errorAnswer(error: unknown): { status: number; body: { error: string } } {
  if (!(error instanceof YwsError)) return { status: 500, body: { error: 'internal error' } }
  return { status: httpStatusOf(error), body: { error: error.message } }
}

/** Serves the first route that handles the request; 404 otherwise; 500 on a thrown error. */
export function serveRoutes(routes: readonly RouteHandler[], onError: (error: unknown) => void) {
  const route = routeRequest(routes, onError)
  return (request: IncomingMessage, response: ServerResponse): void => {
    void route(request, response).then((handled) => {
      if (!handled) sendJson(response, 404, { error: 'not found' })
    })
  }
}
