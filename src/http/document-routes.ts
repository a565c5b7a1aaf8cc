/**
 * The document API under /admin/ (INTERFACE.md "Document API"), as entries of the admin
 * route table:
 *
 *   GET    /admin/docs/<doc>[?format=json]  full state (octet-stream) or the JSON view; 404 if none
 *   POST   /admin/docs/<doc>/updates        body: one Yjs update (≤ MAX_MESSAGE_BYTES, else 413)
 *   DELETE /admin/docs/<doc>                delete everywhere; clients closed with 4404
 *   GET    /admin/export[?prefix=P]         NDJSON {"name","update":"<base64>"} per stored doc
 *   POST   /admin/import                    NDJSON as above, merged doc by doc
 *
 * Every input is validated before anything changes: a bad name or update is a 400, a body
 * over the limit a 413 — and nothing is stored. An import is the exception by nature: it
 * stops at the first bad line and reports how many lines before it were imported.
 */

import type { IncomingMessage } from 'node:http'
import { docNameProblem } from '../doc-name.js'
import type { DocumentService } from '../document/document-service.js'
import { docJsonView } from '../document/shared-types.js'
import { noSuchDocMessage } from '../errors.js'
import { validateUpdate } from '../protocol/messages.js'
import { type AdminRoute, accept, defineRoute, type Parsed, refuse } from './admin-router.js'
import { prefixProblem } from './admin-routes.js'
import type { DocumentBackup } from './backup-handlers.js'
import { sendJson } from './http-routes.js'
import { readBody } from './request-body.js'

export interface DocumentRouteDeps {
  readonly documents: DocumentService
  readonly backup: DocumentBackup
  /** Largest update body accepted (MAX_MESSAGE_BYTES: what one client message may carry). */
  readonly maxUpdateBytes: number
}

function docParam(params: Readonly<Record<string, string>>): Parsed<string> {
  const name = params.doc ?? ''
  const problem = docNameProblem(name)
  return problem ? refuse(400, problem) : accept(name)
}

export function documentRoutes(deps: DocumentRouteDeps): AdminRoute[] {
  const { documents, backup } = deps
  return [
    defineRoute<{ doc: string; json: boolean }>({
      method: 'GET',
      pattern: '/admin/docs/<doc>',
      query: ['format'],
      summary:
        'the doc’s full state as one Yjs update (`?format=json`: the JSON view); 404 if no instance holds it',
      parse: ({ params, query }) => {
        const doc = docParam(params)
        if (!doc.ok) return doc
        const format = query.get('format')
        if (format !== null && format !== 'json' && format !== 'binary')
          return refuse(400, 'format must be json or binary')
        return accept({ doc: doc.input, json: format === 'json' })
      },
      run: async ({ doc, json }, response) => {
        const state = await documents.read(doc)
        if (!state) return sendJson(response, 404, { error: noSuchDocMessage(doc) })
        if (json) return sendJson(response, 200, docJsonView(doc, state))
        response.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': state.byteLength,
          'Cache-Control': 'no-store',
        })
        response.end(state)
      },
    }),
    defineRoute<{ doc: string; update: Uint8Array }>({
      method: 'POST',
      pattern: '/admin/docs/<doc>/updates',
      summary: 'apply a Yjs update (body, ≤ `MAX_MESSAGE_BYTES`): broadcast, stored, relayed',
      parse: async ({ params, request }) => {
        const body = await readBody(request, deps.maxUpdateBytes)
        if (!body.ok) return refuse(413, `body larger than MAX_MESSAGE_BYTES (${deps.maxUpdateBytes} bytes)`)
        const doc = docParam(params)
        if (!doc.ok) return doc
        if (body.body.byteLength === 0) return refuse(400, 'body is empty: send one Yjs update')
        const update = new Uint8Array(body.body.buffer, body.body.byteOffset, body.body.byteLength)
        const problem = validateUpdate(update)
        if (problem) return refuse(400, `not a valid Yjs update: ${problem}`)
        return accept({ doc: doc.input, update })
      },
      // DocumentTooLargeError (413), TooManyDocsError (503): answered by http-routes.ts errorAnswer.
      run: async ({ doc, update }, response) => {
        await documents.applyUpdate(doc, update)
        sendJson(response, 200, { applied: true, bytes: update.byteLength })
      },
    }),
    defineRoute<string>({
      method: 'DELETE',
      pattern: '/admin/docs/<doc>',
      summary: 'delete the doc on every instance (memory, LevelDB, Redis); its clients are closed with 4404',
      parse: ({ params }) => docParam(params),
      // ClusterUnavailableError (503): answered by http-routes.ts errorAnswer.
      run: async (doc, response) => {
        const result = await documents.delete(doc)
        if (!result) return sendJson(response, 404, { error: noSuchDocMessage(doc) })
        sendJson(response, 200, { deleted: doc, closed: result.closed })
      },
    }),
    defineRoute<string | undefined>({
      method: 'GET',
      pattern: '/admin/export',
      query: ['prefix'],
      summary: 'every doc stored here as NDJSON `{"name","update"}` lines, streamed (`?prefix=P`)',
      parse: ({ query }) => {
        const prefix = query.get('prefix') ?? undefined
        const problem = prefixProblem(prefix)
        return problem ? refuse(400, problem) : accept(prefix)
      },
      run: (prefix, response, request) => backup.exportTo(response, request, prefix),
    }),
    defineRoute<IncomingMessage>({
      method: 'POST',
      pattern: '/admin/import',
      summary:
        'NDJSON as exported; each update merged into its doc; stops at a bad line (400 with line and count)',
      parse: ({ request }) => accept(request),
      run: (request, response) => backup.importFrom(request, response),
    }),
  ]
}
