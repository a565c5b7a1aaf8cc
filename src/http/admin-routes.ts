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
 *   POST /admin/revoke   {doc?|sub?}      close connections of a doc or a user (4003)
 *   POST /admin/drain                     stop accepting, hand clients off (1012), exit
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { docNameProblem } from '../doc-name.js'
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

export function adminRoutes(adminToken: string | undefined, actions: AdminActions): RouteHandler {
  const expected = adminToken ? Buffer.from(`Bearer ${adminToken}`) : undefined
  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://admin.invalid')
    if (!url.pathname.startsWith('/admin/')) return false
    if (!expected) {
      sendJson(response, 404, { error: 'admin endpoints are disabled (ADMIN_TOKEN unset)' })
      return true
    }
    const given = Buffer.from(request.headers.authorization ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      sendJson(response, 401, { error: 'admin token required' })
      return true
    }
    await route(request, response, url, actions)
    return true
  }
}

async function route(request: IncomingMessage, response: ServerResponse, url: URL, actions: AdminActions) {
  const action = `${request.method} ${url.pathname}`
  switch (action) {
    case 'GET /admin/docs':
      return sendJson(response, 200, { docs: actions.openDocs() })
    case 'GET /admin/stored-docs': {
      const docs = []
      for await (const stats of actions.storedDocs(url.searchParams.get('prefix') ?? undefined))
        docs.push(stats)
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
      if (prefix !== undefined && typeof prefix !== 'string')
        return sendJson(response, 400, { error: 'bad prefix' })
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
      const doc = body.ok ? body.value.doc : undefined
      if (typeof doc !== 'string' || docNameProblem(doc))
        return sendJson(response, 400, { error: 'doc required' })
      return sendJson(response, 200, { closed: await actions.evict(doc) })
    }
    case 'POST /admin/revoke': {
      const body = await readJson(request)
      if (!body.ok) return sendJson(response, 400, { error: body.error })
      const { doc, sub } = body.value
      if (
        (doc === undefined) === (sub === undefined) ||
        ![doc, sub].every((v) => v === undefined || typeof v === 'string')
      ) {
        return sendJson(response, 400, { error: 'give exactly one of doc or sub' })
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
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return { ok: false, error: 'body too large' }
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return { ok: true, value: {} }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, error: 'body must be a JSON object' }
    }
    return { ok: true, value: value as Record<string, unknown> }
  } catch {
    return { ok: false, error: 'body is not valid JSON' }
  }
}
