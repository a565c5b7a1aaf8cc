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
        // Degraded but ready: without Redis an instance still serves its editors locally
        // and catches up later (promise 4), so a plain probe must not pull every endpoint
        // when Redis is down. `?strict` also requires the relay (docs/operations.md).
        const ready = health.isReady()
        const relay = health.relayConnected()
        const strict = new URL(request.url ?? '/', 'http://x').searchParams.has('strict')
        metrics.ready.set(ready ? 1 : 0)
        const ok = ready && (relay || !strict)
        sendJson(response, ok ? 200 : 503, {
          status: !ready ? 'not ready' : relay ? 'ready' : 'degraded',
          ...health.readinessDetail(),
        })
        return true
      }
      case '/metrics': {
        metrics.ready.set(health.isReady() ? 1 : 0)
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
