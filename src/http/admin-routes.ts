/**
 * Operator actions under /admin/, behind `Authorization: Bearer ADMIN_TOKEN`. Disabled
 * (404) when ADMIN_TOKEN is unset. A user JWT never works here: the admin token is a
 * separate secret compared in constant time, not a JWT.
 *
 *   GET  /admin/docs                      open docs with client counts
 *   GET  /admin/stored-docs[?prefix=P]    stored docs with sizes
 *   POST /admin/flush                     write every queued update now
 *   POST /admin/compact  {doc?|prefix?, gc?, dryRun?}   compact through this instance
 *   POST /admin/evict    {doc}            close a doc's clients (1000) and unload it
 *   POST /admin/revoke   {doc?|sub?}      close connections of a doc or a user (4003) and
 *                                         refuse their tokens issued until now
 *   POST /admin/drain                     stop accepting, hand clients off (1012), exit
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { docNameProblem } from '../doc-name.js'
import type { Metrics } from '../observability/metrics.js'
import type { RouteHandler } from './http-routes.js'
import { sendJson } from './http-routes.js'

export interface AdminActions {
  openDocs(): { doc: string; connections: number }[]
  storedDocs(
    prefix: string | undefined,
  ): AsyncIterable<{ docName: string; snapshotBytes: number; logEntries: number; logBytes: number }>
  flush(): Promise<void>
  compact(target: { doc?: string; prefix?: string; gc: boolean; dryRun: boolean }): Promise<unknown[]>
  evict(doc: string): Promise<number>
  revoke(target: { doc?: string; sub?: string }): Promise<number>
  drain(): void
}

const MAX_BODY_BYTES = 64 * 1024

const ACTIONS = new Set([
  'GET /admin/docs',
  'GET /admin/stored-docs',
  'POST /admin/flush',
  'POST /admin/compact',
  'POST /admin/evict',
  'POST /admin/revoke',
  'POST /admin/drain',
])

export function adminRoutes(
  adminToken: string | undefined,
  actions: AdminActions,
  metrics: Metrics,
): RouteHandler {
  const expected = adminToken ? digest(`Bearer ${adminToken}`) : undefined
  return async (request, response) => {
    const url = parseRequestPath(request.url)
    if (!url?.pathname.startsWith('/admin/')) return false
    const action = `${request.method} ${url.pathname}`
    // The label is one of a fixed set, so a scanner cannot blow up the metric's cardinality.
    const label = ACTIONS.has(action) ? action : 'unknown'
    response.once('finish', () =>
      metrics.adminRequests.inc({ action: label, status: String(response.statusCode) }),
    )
    if (!expected) {
      sendJson(response, 404, { error: 'admin endpoints are disabled (ADMIN_TOKEN unset)' })
      return true
    }
    // Comparing fixed-length digests keeps the comparison constant-time and does not leak
    // the token's length either.
    const given = digest(request.headers.authorization ?? '')
    if (!timingSafeEqual(given, expected)) {
      metrics.authFailures.inc({ reason: 'admin-token' })
      response.setHeader('WWW-Authenticate', 'Bearer realm="admin"')
      sendJson(response, 401, { error: 'admin token required' })
      return true
    }
    await route(request, response, url, actions)
    return true
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/**
 * The request target as a URL, or undefined when it is not an origin-form path. Parsed
 * against a dummy origin, `//host/admin/x` would become host + `/admin/x`, and some targets
 * make `new URL` throw (a 500): both are refused instead.
 */
function parseRequestPath(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/') || target.startsWith('//')) return undefined
  try {
    return new URL(target, 'http://admin.invalid')
  } catch {
    return undefined // not a path we serve; the caller answers 404
  }
}

/** A listing prefix follows the doc-name rules, except that it may be empty. */
function prefixProblem(prefix: unknown): string | undefined {
  if (prefix === undefined || prefix === '') return undefined
  if (typeof prefix !== 'string') return 'prefix must be a string'
  return docNameProblem(prefix) ? 'prefix must be a valid document name prefix' : undefined
}

async function route(request: IncomingMessage, response: ServerResponse, url: URL, actions: AdminActions) {
  const action = `${request.method} ${url.pathname}`
  switch (action) {
    case 'GET /admin/docs':
      return sendJson(response, 200, { docs: actions.openDocs() })
    case 'GET /admin/stored-docs': {
      const prefix = url.searchParams.get('prefix') ?? undefined
      const problem = prefixProblem(prefix)
      if (problem) return sendJson(response, 400, { error: problem })
      const docs = []
      for await (const stats of actions.storedDocs(prefix)) docs.push(stats)
      return sendJson(response, 200, { docs })
    }
    case 'POST /admin/flush':
      await actions.flush()
      return sendJson(response, 200, { flushed: true })
    case 'POST /admin/compact': {
      const body = await readJson(request)
      if (!body.ok) return sendJson(response, 400, { error: body.error })
      const { doc, prefix, gc, dryRun } = body.value
      if (doc !== undefined && (typeof doc !== 'string' || docNameProblem(doc))) {
        return sendJson(response, 400, { error: 'doc must be a valid document name' })
      }
      const problem = prefixProblem(prefix)
      if (problem) return sendJson(response, 400, { error: problem })
      const results = await actions.compact({
        ...(doc !== undefined ? { doc: doc as string } : {}),
        ...(prefix !== undefined ? { prefix: prefix as string } : {}),
        gc: gc !== false,
        dryRun: dryRun === true,
      })
      return sendJson(response, 200, { results })
    }
    case 'POST /admin/evict': {
      const body = await readJson(request)
      if (!body.ok) return sendJson(response, 400, { error: body.error })
      const doc = body.value.doc
      if (typeof doc !== 'string' || docNameProblem(doc))
        return sendJson(response, 400, { error: 'doc must be a valid document name' })
      return sendJson(response, 200, { closed: await actions.evict(doc) })
    }
    case 'POST /admin/revoke': {
      const body = await readJson(request)
      if (!body.ok) return sendJson(response, 400, { error: body.error })
      const { doc, sub } = body.value
      if ((doc === undefined) === (sub === undefined)) {
        return sendJson(response, 400, { error: 'give exactly one of doc or sub' })
      }
      if (doc !== undefined && (typeof doc !== 'string' || docNameProblem(doc))) {
        return sendJson(response, 400, { error: 'doc must be a valid document name' })
      }
      if (sub !== undefined && (typeof sub !== 'string' || sub === '' || sub.length > 1024)) {
        return sendJson(response, 400, { error: 'sub must be a non-empty string' })
      }
      const closed = await actions.revoke(doc !== undefined ? { doc: doc as string } : { sub: sub as string })
      return sendJson(response, 200, { closed })
    }
    case 'POST /admin/drain':
      sendJson(response, 202, { draining: true })
      actions.drain()
      return
    default:
      return sendJson(response, 404, { error: `no admin action ${action}` })
  }
}

type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; error: string }

async function readJson(request: IncomingMessage): Promise<JsonBody> {
  const text = await readBody(request)
  if (text === undefined) return { ok: false, error: `body larger than ${MAX_BODY_BYTES} bytes` }
  if (text === '') return { ok: true, value: {} }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, error: 'body must be a JSON object' }
    }
    return { ok: true, value: value as Record<string, unknown> }
  } catch {
    return { ok: false, error: 'body is not valid JSON' }
  }
}

/**
 * The body as text, or undefined past MAX_BODY_BYTES. An oversized body is drained, not
 * destroyed mid-stream: destroying the request would reset the socket before the 400
 * could be sent. Only a caller holding the admin token gets this far.
 */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    request.once('end', () =>
      resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')),
    )
    request.once('error', reject)
  })
}
