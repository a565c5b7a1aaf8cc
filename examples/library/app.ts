/**
 * An application that embeds the collaboration server (docs/library.md walks through it):
 * its own HTTP server answers its own routes, and the collaboration server is mounted on
 * the same port. Users come from the app's user table, documents are seeded from the app's
 * database the first time they are opened, every change records who made it, and a search
 * index follows what is stored.
 *
 * In your project, import from 'yjs-cluster-server' instead of the relative path.
 * Run: npx tsx examples/library/app.ts   (PORT and DATA_DIR are read here, by the app)
 */
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { AuthenticationError, type CollabServer, createServer, type HookUser } from '../../src/index.js'

/** Stands in for the app's user table: API key -> user, and the docs each may open. */
export const USERS = new Map<string, { user: HookUser; docs: string[]; readOnly?: boolean }>([
  ['key-alice', { user: { id: 'alice', name: 'Alice' }, docs: ['handbook', 'notes/alice'] }],
  ['key-bob', { user: { id: 'bob', name: 'Bob' }, docs: ['handbook'], readOnly: true }],
])

/** Stands in for the app's database of existing documents (plain text to import). */
export const ARTICLES = new Map<string, string>([['handbook', 'Welcome to the handbook.']])

export interface ExampleApp {
  readonly port: number
  /** Words -> docs that contain them, kept current by onStoreDocument. */
  readonly searchIndex: Map<string, Set<string>>
  /** Doc -> id of the last user who changed it, kept by onChange. */
  readonly lastEditors: Map<string, string>
  readonly collab: CollabServer
  close(): Promise<void>
}

export async function startExampleApp(options: { port?: number; dataDir: string }): Promise<ExampleApp> {
  const searchIndex = new Map<string, Set<string>>()
  const lastEditors = new Map<string, string>()

  const collab = createServer({
    host: '127.0.0.1',
    dataDir: options.dataDir,
    logLevel: 'warn',
    // Short so the example's index follows quickly; the default is 2000 ms.
    storeDebounceMs: 200,
    hooks: {
      // Auth against the user table: the API key rides in ?token= (or a cookie, or a header).
      async onAuthenticate({ docName, token }) {
        const account = token === undefined ? undefined : USERS.get(token)
        if (!account) throw new AuthenticationError('unknown API key') // 401
        if (!account.docs.includes(docName)) throw new AuthenticationError('not your document', 403)
        return { user: account.user, readOnly: account.readOnly === true }
      },
      // Seed from the database the first time a doc exists here. It is also what the cluster
      // holds at this point, so "empty" really means "never created". The seed is built in a
      // doc of its own and applied as one update: Yjs transactions do not roll back, so a
      // throw half-way through inserting into `doc` itself would leave a half seed stored.
      async onLoadDocument({ docName, doc }) {
        const article = ARTICLES.get(docName)
        if (doc.getText('content').length > 0 || article === undefined) return
        const seed = new Y.Doc()
        seed.getText('content').insert(0, article)
        Y.applyUpdate(doc, Y.encodeStateAsUpdate(seed))
        seed.destroy()
      },
      // React to each change: cheap bookkeeping only (it runs for every keystroke, in order).
      async onChange({ docName, origin }) {
        if (origin.user) lastEditors.set(docName, origin.user.id)
      },
      // Index once the changes are on disk (debounced): re-read the whole text from the state.
      async onStoreDocument({ docName, state }) {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, state)
        const words = new Set(
          doc
            .getText('content')
            .toString()
            .toLowerCase()
            .match(/[a-z]+/g) ?? [],
        )
        doc.destroy()
        for (const [word, docs] of searchIndex) if (!words.has(word)) docs.delete(docName)
        for (const word of words) {
          const docs = searchIndex.get(word) ?? new Set<string>()
          docs.add(docName)
          searchIndex.set(word, docs)
        }
      },
    },
  })

  const http: Server = createHttpServer(async (request, response) => {
    // The collaboration server answers /healthz, /readyz, /metrics (and /admin/* with ADMIN_TOKEN).
    if (await collab.handleRequest(request, response)) return
    const url = new URL(request.url ?? '/', 'http://app.invalid')
    if (url.pathname === '/search') {
      const docs = [...(searchIndex.get(url.searchParams.get('q')?.toLowerCase() ?? '') ?? [])]
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ docs }))
      return
    }
    response.writeHead(404).end()
  })
  http.on('upgrade', (request, socket, head) => collab.handleUpgrade(request, socket, head))
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve))

  return {
    port: (http.address() as AddressInfo).port,
    searchIndex,
    lastEditors,
    collab,
    async close() {
      await collab.close()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = await startExampleApp({
    port: Number(process.env.PORT ?? 3000),
    dataDir: process.env.DATA_DIR ?? './data',
  })
  process.stdout.write(
    `example app on http://127.0.0.1:${app.port} (ws://127.0.0.1:${app.port}/handbook?token=key-alice)\n`,
  )
  process.once('SIGINT', () => void app.close())
  process.once('SIGTERM', () => void app.close())
}
