/**
 * The operator routes under /admin/ (the document API is in document-routes.ts). Each route
 * is one entry of the table served by admin-router.ts:
 *
 *   GET  /admin/docs                      open docs with client counts
 *   GET  /admin/stored-docs[?prefix=P&after=NAME&limit=N]
 *                                         stored docs with sizes, one page, and the cursor
 *                                         of the next (`next`, null on the last page)
 *   POST /admin/flush                     write every queued update now
 *   POST /admin/compact  {doc?|prefix?, gc?, dryRun?}   compact through this instance
 *   POST /admin/evict    {doc}            close a doc's clients (1000) and unload it
 *   POST /admin/revoke   {doc?|sub?}      close connections of a doc or a user (4003) and
 *                                         refuse their tokens issued until now
 *   POST /admin/drain                     stop accepting, hand clients off (1012), exit
 */
import { docNameProblem } from '../doc-name.js'
import { type AdminRoute, accept, defineRoute, type Parsed, refuse } from './admin-router.js'
import { sendJson } from './http-routes.js'
import { readJson } from './request-body.js'

/** What the operator routes do; app.ts supplies it. */
export interface AdminActions {
  openDocs(): { doc: string; connections: number }[]
  /** Stored docs in name order: with `prefix`, only those; with `after`, only names above it. */
  storedDocs(listing: {
    prefix?: string
    after?: string
  }): AsyncIterable<{ docName: string; snapshotBytes: number; logEntries: number; logBytes: number }>
  flush(): Promise<void>
  compact(target: { doc?: string; prefix?: string; gc: boolean; dryRun: boolean }): Promise<unknown[]>
  evict(doc: string): Promise<number>
  revoke(target: { doc?: string; sub?: string }): Promise<number>
  drain(): void
}

/** A listing prefix follows the doc-name rules, except that it may be empty. */
export function prefixProblem(prefix: unknown): string | undefined {
  if (prefix === undefined || prefix === '') return undefined
  if (typeof prefix !== 'string') return 'prefix must be a string'
  return docNameProblem(prefix) ? 'prefix must be a valid document name prefix' : undefined
}

const none = (): Parsed<undefined> => accept(undefined)

/** Docs per /admin/stored-docs page unless `limit` says otherwise, and the most it may say. */
export const STORED_DOCS_PAGE = { default: 1000, max: 10_000 } as const

interface StoredDocsPage {
  readonly prefix: string | undefined
  readonly after: string | undefined
  readonly limit: number
}

function parseStoredDocsPage(query: URLSearchParams): Parsed<StoredDocsPage> {
  const prefix = query.get('prefix') ?? undefined
  const problem = prefixProblem(prefix)
  if (problem) return refuse(400, problem)
  const after = query.get('after') ?? undefined
  if (after !== undefined && docNameProblem(after)) return refuse(400, 'after must be a document name')
  const rawLimit = query.get('limit')
  const limit = rawLimit === null ? STORED_DOCS_PAGE.default : Number(rawLimit)
  if (!/^\d+$/.test(rawLimit ?? '1') || limit < 1 || limit > STORED_DOCS_PAGE.max) {
    return refuse(400, `limit must be a whole number from 1 to ${STORED_DOCS_PAGE.max}`)
  }
  return accept({ prefix, after, limit })
}

/** A JSON body's `doc`, validated. */
function docField(doc: unknown): Parsed<string> {
  if (typeof doc !== 'string' || docNameProblem(doc)) return refuse(400, 'doc must be a valid document name')
  return accept(doc)
}

export function operatorRoutes(actions: AdminActions): AdminRoute[] {
  return [
    defineRoute({
      method: 'GET',
      pattern: '/admin/docs',
      summary: 'open docs on this instance with client counts',
      parse: none,
      run: (_input, response) => sendJson(response, 200, { docs: actions.openDocs() }),
    }),
    defineRoute<StoredDocsPage>({
      method: 'GET',
      pattern: '/admin/stored-docs',
      query: ['prefix', 'after', 'limit'],
      summary:
        'docs in this instance’s LevelDB with sizes, one page (`?prefix=P&after=NAME&limit=N`, answer `{ docs, next }`)',
      parse: ({ query }) => parseStoredDocsPage(query),
      run: async ({ prefix, after, limit }, response) => {
        const docs = []
        let next: string | null = null
        // One doc past the page tells whether another page exists, so the last page says
        // next: null instead of sending the caller for an empty one.
        for await (const stats of actions.storedDocs({
          ...(prefix !== undefined ? { prefix } : {}),
          ...(after !== undefined ? { after } : {}),
        })) {
          if (docs.length === limit) {
            next = docs[docs.length - 1]!.docName
            break
          }
          docs.push(stats)
        }
        sendJson(response, 200, { docs, next })
      },
    }),
    defineRoute({
      method: 'POST',
      pattern: '/admin/flush',
      summary: 'write every queued update to LevelDB now',
      parse: none,
      run: async (_input, response) => {
        await actions.flush()
        sendJson(response, 200, { flushed: true })
      },
    }),
    defineRoute<{ doc?: string; prefix?: string; gc: boolean; dryRun: boolean }>({
      method: 'POST',
      pattern: '/admin/compact',
      summary: 'compact `{doc?|prefix?, gc?, dryRun?}` through this instance',
      parse: async ({ request }) => {
        const body = await readJson(request, ['doc', 'prefix', 'gc', 'dryRun'])
        if (!body.ok) return refuse(400, body.error)
        const { doc, prefix, gc, dryRun } = body.value
        if (doc !== undefined && !docField(doc).ok) return refuse(400, 'doc must be a valid document name')
        const problem = prefixProblem(prefix)
        if (problem) return refuse(400, problem)
        if (doc !== undefined && prefix !== undefined) return refuse(400, 'give doc or prefix, not both')
        // Not coerced: "dryRun": "true" must not run a real compaction.
        if (gc !== undefined && typeof gc !== 'boolean') return refuse(400, 'gc must be a boolean')
        if (dryRun !== undefined && typeof dryRun !== 'boolean')
          return refuse(400, 'dryRun must be a boolean')
        return accept({
          ...(doc !== undefined ? { doc: doc as string } : {}),
          ...(prefix !== undefined ? { prefix: prefix as string } : {}),
          gc: gc !== false,
          dryRun: dryRun === true,
        })
      },
      run: async (target, response) => sendJson(response, 200, { results: await actions.compact(target) }),
    }),
    defineRoute<string>({
      method: 'POST',
      pattern: '/admin/evict',
      summary: 'close a doc’s clients (1000) and unload it, on every instance `{doc}`',
      parse: async ({ request }) => {
        const body = await readJson(request, ['doc'])
        return body.ok ? docField(body.value.doc) : refuse(400, body.error)
      },
      run: async (doc, response) => sendJson(response, 200, { closed: await actions.evict(doc) }),
    }),
    defineRoute<{ doc?: string; sub?: string }>({
      method: 'POST',
      pattern: '/admin/revoke',
      summary: 'close a doc’s or a user’s connections (4003) and refuse their tokens `{doc|sub}`',
      parse: async ({ request }) => {
        const body = await readJson(request, ['doc', 'sub'])
        if (!body.ok) return refuse(400, body.error)
        const { doc, sub } = body.value
        if ((doc === undefined) === (sub === undefined)) return refuse(400, 'give exactly one of doc or sub')
        if (doc !== undefined) {
          const parsed = docField(doc)
          return parsed.ok ? accept({ doc: parsed.input }) : parsed
        }
        if (typeof sub !== 'string' || sub === '' || sub.length > 1024) {
          return refuse(400, 'sub must be a non-empty string')
        }
        return accept({ sub })
      },
      run: async (target, response) => sendJson(response, 200, { closed: await actions.revoke(target) }),
    }),
    defineRoute({
      method: 'POST',
      pattern: '/admin/drain',
      summary: 'stop accepting, close clients with 1012, exit',
      parse: none,
      run: (_input, response) => {
        sendJson(response, 202, { draining: true })
        actions.drain()
      },
    }),
  ]
}
