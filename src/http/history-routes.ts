/**
 * Admin routes of version history (docs/history.md), mounted in the admin route table:
 *
 *   GET  /admin/docs/<doc>/versions                  newest first [{id, at, bytes, users, label?}]
 *   POST /admin/docs/<doc>/versions      {label?}    checkpoint now → 201 {id}
 *   GET  /admin/docs/<doc>/versions/<id>[?format=json]  the version like GET /admin/docs/<doc>
 *   POST /admin/docs/<doc>/versions/<id>/restore     → {restored, backup}
 *   POST /admin/docs/<doc>/versions/prune {keep?, dryRun?}  → {kept, pruned} (compact --history-keep)
 *
 * Everything is validated before anything happens: a bad name, id, label or body changes
 * nothing. Unknown doc or version: 404; a version that is not a past state of the doc: 409.
 * Whether the doc exists is asked before any room is opened: a checkpoint of an unknown doc
 * used to load an empty room and leave it open (listed, served) until ROOM_IDLE_MS.
 */

import { docNameProblem } from '../doc-name.js'
import { docJsonView } from '../document/shared-types.js'
import { noSuchDocMessage } from '../errors.js'
import { CHECKPOINT_ID, type CheckpointMeta, type HistoryPruneResult } from '../history/checkpoint-store.js'
import { labelProblem } from '../history/history-service.js'
import { type AdminRoute, accept, defineRoute, type Parsed, refuse } from './admin-router.js'
import { sendJson } from './http-routes.js'
import { readJson } from './request-body.js'

/** What the routes need of the history service. */
export interface HistoryActions {
  list(docName: string): Promise<CheckpointMeta[]>
  checkpoint(docName: string, options: { label?: unknown }): Promise<CheckpointMeta>
  version(docName: string, id: string): Promise<{ meta: CheckpointMeta; state: Uint8Array } | undefined>
  restore(docName: string, id: string): Promise<{ restored: string; backup: string }>
  prune(docName: string, keep: number | undefined, dryRun: boolean): Promise<HistoryPruneResult>
}

interface VersionTarget {
  readonly doc: string
  readonly id: string
}

function docParam(params: Readonly<Record<string, string>>): Parsed<string> {
  const doc = params.doc ?? ''
  const problem = docNameProblem(doc)
  return problem ? refuse(400, `document name: ${problem}`) : accept(doc)
}

function versionParams(params: Readonly<Record<string, string>>): Parsed<VersionTarget> {
  const doc = docParam(params)
  if (!doc.ok) return doc
  const id = params.id ?? ''
  if (!CHECKPOINT_ID.test(id)) return refuse(400, 'version id must be an id from the versions list')
  return accept({ doc: doc.input, id })
}

// The history errors (NoSuchDocError, NoSuchVersionError 404, BadLabelError 400,
// NotAnAncestorError 409, TooManyDocsError 503) are catalogued: http-routes.ts errorAnswer
// answers them with their own status.

/** Whether any part of the cluster holds the doc; never opens a room. */
export type DocExists = (docName: string) => Promise<boolean>

const noSuchDoc = (doc: string) => ({ error: noSuchDocMessage(doc) })

export function historyRoutes(history: HistoryActions, exists: DocExists): AdminRoute[] {
  return [
    defineRoute<string>({
      method: 'GET',
      pattern: '/admin/docs/<doc>/versions',
      summary: 'versions (checkpoints) of a doc on this instance, newest first; 404 for an unknown doc',
      parse: ({ params }) => docParam(params),
      run: async (doc, response) => {
        const versions = await history.list(doc)
        if (versions.length === 0 && !(await exists(doc))) return sendJson(response, 404, noSuchDoc(doc))
        sendJson(response, 200, versions)
      },
    }),
    defineRoute<{ doc: string; label: unknown }>({
      method: 'POST',
      pattern: '/admin/docs/<doc>/versions',
      summary: 'take a checkpoint now (`{label?}`) → `{id}`',
      parse: async ({ params, request }) => {
        const doc = docParam(params)
        if (!doc.ok) return doc
        const body = await readJson(request, ['label'])
        if (!body.ok) return refuse(400, body.error)
        const problem = labelProblem(body.value.label)
        if (problem) return refuse(400, problem)
        return accept({ doc: doc.input, label: body.value.label })
      },
      run: async ({ doc, label }, response) => {
        // An unknown doc is a NoSuchDocError from the service, before any room is opened.
        const meta = await history.checkpoint(doc, { label })
        sendJson(response, 201, { id: meta.id })
      },
    }),
    defineRoute<VersionTarget & { json: boolean }>({
      method: 'GET',
      pattern: '/admin/docs/<doc>/versions/<id>',
      query: ['format'],
      summary: 'one version as a Yjs update, or `?format=json` as `{name, content}`',
      parse: ({ params, query }) => {
        const target = versionParams(params)
        if (!target.ok) return target
        const format = query.get('format')
        if (format !== null && format !== 'json') return refuse(400, 'format must be json (or absent)')
        return accept({ ...target.input, json: format === 'json' })
      },
      run: async ({ doc, id, json }, response) => {
        const version = await history.version(doc, id)
        if (!version) return sendJson(response, 404, { error: `no version ${id} of ${doc}` })
        if (json) return sendJson(response, 200, docJsonView(doc, version.state))
        response.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': version.state.byteLength,
        })
        response.end(version.state)
      },
    }),
    defineRoute<VersionTarget>({
      method: 'POST',
      pattern: '/admin/docs/<doc>/versions/<id>/restore',
      summary: 'make the doc’s content the version’s, as a new change → `{restored, backup}`',
      parse: ({ params }) => versionParams(params),
      run: async ({ doc, id }, response) => sendJson(response, 200, await history.restore(doc, id)),
    }),
    defineRoute<{ doc: string; keep: number | undefined; dryRun: boolean }>({
      method: 'POST',
      pattern: '/admin/docs/<doc>/versions/prune',
      summary: 'keep `{keep}` versions (the HISTORY_KEEP rule), `{dryRun?}` → `{kept, pruned}`',
      parse: async ({ params, request }) => {
        const doc = docParam(params)
        if (!doc.ok) return doc
        const body = await readJson(request, ['keep', 'dryRun'])
        if (!body.ok) return refuse(400, body.error)
        const { keep, dryRun } = body.value
        if (keep !== undefined && (!Number.isSafeInteger(keep) || (keep as number) < 1))
          return refuse(400, 'keep must be a whole number ≥ 1')
        if (dryRun !== undefined && typeof dryRun !== 'boolean')
          return refuse(400, 'dryRun must be a boolean')
        return accept({ doc: doc.input, keep: keep as number | undefined, dryRun: dryRun === true })
      },
      run: async ({ doc, keep, dryRun }, response) => {
        const result = await history.prune(doc, keep, dryRun)
        // Pruning reads and deletes checkpoints only; nothing to prune and no doc is a 404.
        if (result.kept.versions + result.pruned.versions === 0 && !(await exists(doc)))
          return sendJson(response, 404, noSuchDoc(doc))
        sendJson(response, 200, result)
      },
    }),
  ]
}
