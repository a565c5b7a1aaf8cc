/**
 * Library hooks (INTERFACE.md "Library API"): each hook is called with the documented
 * arguments, awaited, in order; a throwing hook is logged and counted and changes nothing
 * else; slow hooks never reorder a connection's updates. Real providers and LevelDB.
 */
import type { IncomingMessage } from 'node:http'
import { Writable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'
import {
  AuthenticationError,
  type ChangeOrigin,
  createServer,
  type Hooks,
  type HookUser,
  type ServerOptions,
} from '../../src/index.js'
import { createLogger } from '../../src/observability/logger.js'
import { connectClient, connectSynced } from '../helpers/clients.js'
import { httpRequest, rawUpgrade } from '../helpers/http.js'
import { parsePrometheus } from '../helpers/prometheus.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp-dir.js'
import { signToken, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function hookedServer(hooks: Hooks, options: ServerOptions = {}) {
  const logs: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      callback()
    },
  })
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: await tempDir('yws-hooks-'),
    roomIdleMs: 100,
    storeDebounceMs: 50,
    storeMaxWaitMs: 500,
    logger: createLogger('info', 'hooks-test', sink),
    hooks,
    ...options,
  })
  onTestFinished(() => server.close())
  const { port } = await server.listen()
  return { server, port, url: `ws://127.0.0.1:${port}`, logs }
}

async function hookErrors(port: number): Promise<Record<string, number>> {
  const exposition = parsePrometheus((await httpRequest(port, '/metrics')).body)
  const counts: Record<string, number> = {}
  for (const sample of exposition.samples) {
    if (sample.name === 'yws_hook_errors_total') counts[sample.labels.hook!] = sample.value
  }
  return counts
}

describe('hooks', () => {
  it('calls every hook with the documented arguments', async () => {
    const calls: string[] = []
    const seen: {
      auth?: { docName: string; token: string | undefined; request: IncomingMessage }
      connect?: { docName: string; user: HookUser | undefined }
      disconnect?: { docName: string; user: HookUser | undefined }
      changes: { update: Uint8Array; origin: ChangeOrigin }[]
      stored: Uint8Array[]
    } = { changes: [], stored: [] }
    const alice = { id: 'alice', team: 'blue' }
    const { server, url } = await hookedServer({
      async onAuthenticate(context) {
        calls.push('onAuthenticate')
        seen.auth = context
        await delay(20)
        return { user: alice }
      },
      async onLoadDocument({ docName, doc }) {
        calls.push(`onLoadDocument ${docName}`)
        await delay(20)
        if (doc.getText('t').length === 0) doc.getText('t').insert(0, 'seeded;')
      },
      onConnect(context) {
        calls.push('onConnect')
        seen.connect = context
      },
      onChange({ docName, update, origin }) {
        expect(docName).toBe('hooked')
        seen.changes.push({ update, origin })
      },
      onStoreDocument({ docName, state }) {
        expect(docName).toBe('hooked')
        seen.stored.push(state)
      },
      onDisconnect(context) {
        calls.push('onDisconnect')
        seen.disconnect = context
      },
    })

    const client = await connectSynced(url, 'hooked', { params: { token: 'secret-ticket' } })
    // The seed is there at the first sync: it ran before the client was served.
    expect(client.text.toString()).toBe('seeded;')
    expect(seen.auth?.docName).toBe('hooked')
    expect(seen.auth?.token).toBe('secret-ticket')
    expect(seen.auth?.request.headers.upgrade).toBe('websocket')
    expect(seen.connect).toEqual({ docName: 'hooked', user: alice })

    client.text.insert(client.text.length, 'typed')
    await waitFor(() => seen.changes.some((change) => change.origin.kind === 'client'))
    const fromClient = seen.changes.find((change) => change.origin.kind === 'client')!
    expect(fromClient.origin).toEqual({ kind: 'client', user: alice })
    expect(Y.decodeUpdate(fromClient.update).structs.length).toBeGreaterThan(0)
    // The seed itself was a change too, made by the server.
    expect(seen.changes[0]!.origin).toEqual({ kind: 'server' })

    const conn = await server.openDirectConnection('hooked')
    await conn.transact((doc) => doc.getText('t').insert(0, '!'))
    await waitFor(() => seen.changes.length === 3)
    expect(seen.changes[2]!.origin).toEqual({ kind: 'server' })
    await conn.disconnect()

    await waitFor(() => seen.stored.length > 0 && stateText(seen.stored.at(-1)!) === '!seeded;typed', {
      what: 'onStoreDocument with the latest state',
    })
    client.destroy()
    await waitFor(() => seen.disconnect !== undefined)
    expect(seen.disconnect).toEqual({ docName: 'hooked', user: alice })
    expect(calls).toEqual(['onAuthenticate', 'onLoadDocument hooked', 'onConnect', 'onDisconnect'])
  })

  it('onAuthenticate refuses with 401 or 403, and can make a connection read-only', async () => {
    const { url, port } = await hookedServer({
      onAuthenticate({ docName, token }) {
        if (token === undefined) throw new Error('who are you?')
        if (docName === 'secret') throw new AuthenticationError('not yours', 403)
        return { user: { id: token }, readOnly: token === 'reader' }
      },
    })
    expect((await rawUpgrade(port, '/doc')).status).toBe(401)
    expect((await rawUpgrade(port, '/secret?token=bob')).status).toBe(403)
    expect((await rawUpgrade(port, '/doc?token=bob')).status).toBe(101)
    const writer = await connectSynced(url, 'doc', { params: { token: 'bob' } })
    const reader = await connectSynced(url, 'doc', { params: { token: 'reader' } })
    reader.text.insert(0, 'ignored')
    writer.text.insert(0, 'kept')
    await waitFor(() => reader.text.toString().includes('kept'))
    const fresh = await connectSynced(url, 'doc', { params: { token: 'carol' } })
    expect(fresh.text.toString()).toBe('kept')
  })

  it('with AUTH_SECRET, the token is checked first and its sub becomes the user', async () => {
    const users: (HookUser | undefined)[] = []
    const { url, port } = await hookedServer(
      {
        onConnect({ user }) {
          users.push(user)
        },
      },
      { authSecret: TEST_SECRET },
    )
    expect((await rawUpgrade(port, '/doc')).status).toBe(401)
    const token = await signToken({ sub: 'dave' })
    await connectSynced(url, 'doc', { params: { token } })
    await waitFor(() => users.length === 1)
    expect(users).toEqual([{ id: 'dave' }])
  })

  it('a throwing hook is logged and counted, and loses nothing', async () => {
    const { url, port, logs } = await hookedServer({
      onConnect() {
        throw new Error('connect hook broke')
      },
      async onChange() {
        throw new Error('change hook broke')
      },
      onStoreDocument() {
        throw new Error('store hook broke')
      },
      onDisconnect() {
        throw new Error('disconnect hook broke')
      },
    })
    const a = await connectSynced(url, 'sturdy')
    const b = await connectSynced(url, 'sturdy')
    for (let i = 0; i < 20; i++) a.text.insert(a.text.length, `${i};`)
    const expected = a.text.toString()
    await waitFor(() => b.text.toString() === expected)
    a.destroy()
    await waitFor(async () => {
      const errors = await hookErrors(port)
      return (
        errors.onConnect === 2 &&
        errors.onChange! >= 20 &&
        errors.onStoreDocument! >= 1 &&
        errors.onDisconnect === 1
      )
    })
    expect(logs.some((line) => line.hook === 'onChange' && line.level === 'error')).toBe(true)
    b.destroy()
    const fresh = await connectSynced(url, 'sturdy')
    expect(fresh.text.toString()).toBe(expected)
  })

  it('a throwing onLoadDocument refuses the document (503) instead of serving it unseeded', async () => {
    let failing = true
    const { server, url, port } = await hookedServer({
      onLoadDocument({ doc }) {
        if (failing) throw new Error('database down')
        doc.getText('t').insert(0, 'from the database')
      },
    })
    expect((await rawUpgrade(port, '/seeded')).status).toBe(503)
    await expect(server.openDirectConnection('seeded')).rejects.toThrow(/database down/)
    expect((await hookErrors(port)).onLoadDocument).toBe(2)
    failing = false
    const client = await connectSynced(url, 'seeded')
    expect(client.text.toString()).toBe('from the database')
  })

  it('an onLoadDocument that writes to doc and then throws changes nothing: not stored, not relayed, no onChange', async () => {
    const redisPrefix = uniquePrefix()
    const common = { redisUrl: SHARED_REDIS_URL, redisPrefix }
    let failing = true
    const seenAtLoad: string[] = []
    const origins: ChangeOrigin['kind'][] = []
    const a = await hookedServer(
      {
        onLoadDocument({ doc }) {
          seenAtLoad.push(doc.getText('t').toString())
          if (!failing) return
          doc.getText('t').insert(0, 'half a seed;')
          throw new Error('database died mid-seed')
        },
        onChange({ origin }) {
          origins.push(origin.kind)
        },
      },
      { ...common, instanceId: 'seed-a' },
    )
    const b = await hookedServer({}, { ...common, instanceId: 'seed-b' })
    // b has the doc open: anything a's failed load relayed would reach this client.
    const onB = await connectSynced(b.url, 'half')
    expect((await rawUpgrade(a.port, '/half')).status).toBe(503)
    failing = false
    const onA = await connectSynced(a.url, 'half')
    // The second load found the doc as the first left it: nothing of the failed seed stored.
    expect(seenAtLoad).toEqual(['', ''])
    expect(onA.text.toString()).toBe('')
    // The relay keeps a doc's order: once the marker arrived, a relayed half-seed would have too.
    onA.text.insert(0, 'marker')
    await waitFor(() => onB.text.toString().includes('marker'))
    expect(onB.text.toString()).toBe('marker')
    expect(origins).not.toContain('server')
  })

  it('the seeding recipe of docs/library.md: a failure half-way leaves nothing, the next load seeds whole', async () => {
    let failHalfWay = true
    const { server, url } = await hookedServer({
      // docs/library.md "Seeding from a database", with the database failing between two inserts.
      async onLoadDocument({ doc }) {
        if (doc.getText('content').length > 0) return
        const seed = new Y.Doc()
        seed.getText('content').insert(0, 'Title\n')
        if (failHalfWay) throw new Error('database died mid-seed')
        seed.getText('content').insert(seed.getText('content').length, 'body')
        Y.applyUpdate(doc, Y.encodeStateAsUpdate(seed))
        seed.destroy()
      },
    })
    await expect(server.openDirectConnection('article')).rejects.toThrow(/database died mid-seed/)
    failHalfWay = false
    const client = await connectSynced(url, 'article')
    expect(client.doc.getText('content').toString()).toBe('Title\nbody')
  })

  it('slow onChange and onConnect hooks never reorder a connection’s updates', async () => {
    const updates: Uint8Array[] = []
    const { url } = await hookedServer({
      async onConnect() {
        await delay(200)
      },
      async onChange({ update, origin }) {
        if (origin.kind !== 'client') return
        updates.push(update)
        await delay(5)
      },
    })
    const client = connectClient(url, 'ordered')
    const reader = await connectSynced(url, 'ordered')
    await waitFor(() => client.provider.wsconnected)
    // Each keystroke is its own update depending on the previous one; sent back to back.
    for (let i = 0; i < 40; i++) client.text.insert(client.text.length, String.fromCharCode(97 + (i % 26)))
    const expected = client.text.toString()
    await waitFor(() => reader.text.toString() === expected, { what: 'the reader to get every keystroke' })
    await waitFor(() => updates.length >= 40, { what: 'onChange for every keystroke' })
    // Replayed in the order the hook saw them, no update ever waits for a later one.
    const replay = new Y.Doc()
    for (const update of updates) {
      Y.applyUpdate(replay, update)
      expect(replay.store.pendingStructs).toBeNull()
    }
    expect(replay.getText('t').toString()).toBe(expected)
  })

  it('onChange sees relayed changes as origin relay on the other instance', async () => {
    const redisPrefix = uniquePrefix()
    const origins: ChangeOrigin['kind'][] = []
    const common = { redisUrl: SHARED_REDIS_URL, redisPrefix }
    const a = await hookedServer({}, { ...common, instanceId: 'hooks-a' })
    const b = await hookedServer(
      {
        onChange({ origin }) {
          origins.push(origin.kind)
        },
      },
      { ...common, instanceId: 'hooks-b' },
    )
    const onB = await connectSynced(b.url, 'relayed')
    const conn = await a.server.openDirectConnection('relayed')
    await conn.transact((doc) => doc.getText('t').insert(0, 'via redis'))
    await waitFor(() => onB.text.toString() === 'via redis')
    await waitFor(() => origins.includes('relay'))
    expect(origins).not.toContain('client')
  })
})

function stateText(state: Uint8Array): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getText('t').toString()
}
