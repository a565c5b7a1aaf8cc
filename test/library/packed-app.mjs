/**
 * Copied next to the packed package's install by test/integration/package.test.ts and run
 * there with plain node: the library as a user gets it from `npm install`. It creates a
 * server with every hook, mounts it on its own http.Server, has a stock y-websocket provider
 * edit a doc, edits the same doc through a direct connection, closes, and simply returns:
 * the process must exit on its own (no process.exit). Its last stdout line is a JSON report
 * of every hook call; the test checks the arguments.
 */
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { AuthenticationError, createServer, YwsError } from 'yjs-cluster-server'

const DOC = 'packed/doc'
const TOKEN = 'key-of-alice'
const calls = []
const waiters = []
const record = (hook, details) => {
  calls.push({ hook, ...details })
  for (const waiter of [...waiters]) waiter()
}
/** Resolves once `test` holds, checked after every hook call. */
const until = (test) =>
  new Promise((resolve) => {
    const check = () => {
      if (!test()) return
      waiters.splice(waiters.indexOf(check), 1)
      resolve()
    }
    waiters.push(check)
    check()
  })
const textOf = (state) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  const text = doc.getText('t').toString()
  doc.destroy()
  return text
}

const server = createServer({
  dataDir: process.argv[2],
  logLevel: 'warn',
  storeDebounceMs: 50,
  hooks: {
    async onAuthenticate({ docName, request, token }) {
      record('onAuthenticate', { docName, token, url: request.url })
      if (token !== TOKEN) throw new AuthenticationError('unknown API key')
      return { user: { id: 'alice', name: 'Alice' } }
    },
    async onLoadDocument({ docName, doc }) {
      record('onLoadDocument', { docName, isYDoc: doc instanceof Y.Doc, text: doc.getText('t').toString() })
      if (doc.getText('t').length === 0) doc.getText('t').insert(0, 'seed.')
    },
    async onChange({ docName, update, origin }) {
      record('onChange', {
        docName,
        updateBytes: update instanceof Uint8Array ? update.byteLength : -1,
        kind: origin.kind,
        user: origin.user?.id,
      })
    },
    async onStoreDocument({ docName, state }) {
      record('onStoreDocument', { docName, text: textOf(state) })
    },
    async onConnect({ docName, user }) {
      record('onConnect', { docName, user: user?.id })
    },
    async onDisconnect({ docName, user }) {
      record('onDisconnect', { docName, user: user?.id })
    },
  },
})

// The user's own HTTP server; the collaboration server only takes upgrades and its paths.
const http = createHttpServer(async (request, response) => {
  if (await server.handleRequest(request, response)) return
  response.end('my app')
})
http.on('upgrade', (request, socket, head) => server.handleUpgrade(request, socket, head))
http.listen(0, '127.0.0.1')
await once(http, 'listening')
const { port } = http.address()

const ydoc = new Y.Doc()
const provider = new WebsocketProvider(`ws://127.0.0.1:${port}`, DOC, ydoc, {
  WebSocketPolyfill: WebSocket,
  params: { token: TOKEN },
  disableBc: true,
})
await new Promise((resolve) => provider.once('sync', resolve))
const seen = () => ydoc.getText('t').toString()
await until(() => calls.some((c) => c.hook === 'onConnect'))
ydoc.getText('t').insert(seen().length, ' client.')
await until(() => calls.some((c) => c.hook === 'onChange' && c.kind === 'client'))

const direct = await server.openDirectConnection(DOC)
await direct.transact((doc) => doc.getText('t').insert(doc.getText('t').length, ' server.'))
// Two server-origin changes: the seed of onLoadDocument, then this edit.
await until(() => calls.filter((c) => c.hook === 'onChange' && c.kind === 'server').length >= 2)
await new Promise((resolve) => {
  if (seen().endsWith(' server.')) resolve()
  else ydoc.on('update', () => seen().endsWith(' server.') && resolve())
})
await direct.disconnect()

provider.destroy()
await until(() => calls.some((c) => c.hook === 'onDisconnect'))
await server.close()
http.close()
await once(http, 'close')

let afterClose = 'none'
try {
  await server.openDirectConnection(DOC)
} catch (error) {
  afterClose = error instanceof YwsError ? error.code : String(error)
}
const clientText = seen()
ydoc.destroy()
process.stdout.write(`${JSON.stringify({ calls, clientText, afterClose })}\n`)
