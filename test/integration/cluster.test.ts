/**
 * Several in-process instances sharing one Redis (the shared server, a unique key prefix
 * per test): convergence, late join, awareness, compaction/trim, poison entries, control.
 */
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docKeys } from '../../src/relay/redis-keys.js'
import { formatVerdict, simulateEditors } from '../../src/testing/index.js'
import { connectClient, connectSynced, waitForConvergence } from '../helpers/clients.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

type ServerOptions = Parameters<typeof startServer>[1]

let instances = 0

/** Instance ids must be unique in a cluster: an instance skips entries tagged with its own id. */
function clusterOf(count: number, prefix: string, options: ServerOptions = {}): Promise<TestServer[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startServer(
        { redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, instanceId: `node${instances++}` },
        options,
      ),
    ),
  )
}

function redisClient(): Redis {
  const redis = new Redis(SHARED_REDIS_URL)
  return redis
}

function metric(server: TestServer, name: string, labels = ''): Promise<number> {
  return server.app.metrics.registry.metrics().then((text) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
    return line ? Number(line.split(' ').at(-1)) : 0
  })
}

describe('cluster relay over Redis Streams', () => {
  it('3 instances x 3 simulated editors each, on shared docs: converge exactly, nothing lost', async () => {
    const prefix = uniquePrefix()
    const servers = await clusterOf(3, prefix)
    // Braces in the names: Redis Cluster hash tags must not leak out of our own key tags.
    const verdict = await simulateEditors({
      urls: servers.map((server) => server.url),
      docs: 2,
      editors: 9,
      rate: 10,
      durationMs: 1500,
      docPrefix: 'shared/{x}-',
      seed: 3,
    })
    expect(verdict.ok, formatVerdict(verdict)).toBe(true)
    expect(verdict.totals.edits).toBeGreaterThan(20)
    // Each update crossed Redis once per instance, never echoed back to its publisher.
    const received = await metric(servers[0]!, 'yws_relay_received_total', 'kind="u"')
    expect(received).toBeGreaterThan(0)
    // A fresh instance that never hosted the docs serves them complete.
    const [fresh] = await clusterOf(1, prefix)
    for (const name of ['shared/{x}-0', 'shared/{x}-1']) {
      const onA = await connectSynced(servers[0]!.url, name)
      const late = await connectSynced(fresh!.url, name)
      await waitForConvergence([onA.doc, late.doc])
      expect(late.doc.getXmlFragment('prosemirror').length).toBeGreaterThan(0)
    }
  })

  // With a zero trim margin every compaction races the live readers: this is the test that
  // found the two lost-update bugs behind the old "1 run in 4" stall (a reply that jumped a
  // trim went unchecked; Room.receive missed a second parked update). No retry.
  it('a late joiner on a fresh instance sees everything after compaction trimmed the stream', async () => {
    const prefix = uniquePrefix()
    const tuning = { relayTuning: { compactEntries: 20, trimMarginMs: 0 } }
    const [a, b] = await clusterOf(2, prefix, tuning)
    const ca = await connectSynced(a!.url, 'long')
    const cb = await connectSynced(b!.url, 'long')
    for (let i = 0; i < 120; i++) {
      ;(i % 2 ? ca : cb).text.insert(0, `${i} `)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitForConvergence([ca.doc, cb.doc])
    const redis = redisClient()
    const keys = docKeys(prefix, 'long')
    try {
      await waitFor(async () => (await redis.hexists(keys.snapshot, 'data')) === 1, { what: 'a snapshot' })
      await waitFor(async () => (await redis.xlen(keys.stream)) < 60, { what: 'the stream to be trimmed' })
    } finally {
      redis.disconnect()
    }
    const [c] = await clusterOf(1, prefix, tuning)
    const cc = await connectSynced(c!.url, 'long')
    await waitFor(() => cc.text.toString() === ca.text.toString(), { what: 'late joiner to see it all' })
    expect(Y.encodeStateVector(cc.doc)).toEqual(Y.encodeStateVector(ca.doc))
    // A zero margin makes every read "late" (the stall threshold is half the margin): the
    // relay still checks its rooms for gaps each time, but says so once per stall, not per poll.
    for (const server of [a!, b!, c!]) {
      const stalls = server.logs.filter(
        (line) => line.msg === 'relay reader stalled; checking every room for gaps',
      )
      expect(stalls.length).toBeLessThanOrEqual(1)
    }
  })

  it('relays awareness across instances and removes it everywhere when the client leaves', async () => {
    const prefix = uniquePrefix()
    const [a, b] = await clusterOf(2, prefix)
    const watcher = await connectSynced(b!.url, 'aware')
    const editor = await connectSynced(a!.url, 'aware')
    editor.provider.awareness.setLocalStateField('user', { name: 'ada' })
    const editorId = editor.doc.clientID
    await waitFor(
      () =>
        (watcher.provider.awareness.getStates().get(editorId) as { user?: { name?: string } } | undefined)
          ?.user?.name === 'ada',
      {
        what: 'cursor to appear on the other instance',
      },
    )
    // A client joining later on a third instance sees the cursor at once (awareness query).
    const [c] = await clusterOf(1, prefix)
    const late = await connectSynced(c!.url, 'aware')
    await waitFor(() => late.provider.awareness.getStates().has(editorId), {
      what: 'late joiner to see the cursor',
    })
    editor.destroy()
    await waitFor(() => !watcher.provider.awareness.getStates().has(editorId), {
      what: 'cursor to disappear on the other instance',
    })
    await waitFor(() => !late.provider.awareness.getStates().has(editorId), {
      what: 'cursor to disappear on c',
    })
  })

  it('a poison entry is skipped and counted; other rooms keep flowing and the room recovers', async () => {
    const prefix = uniquePrefix()
    const [a, b] = await clusterOf(2, prefix)
    const pa = await connectSynced(a!.url, 'poisoned')
    const pb = await connectSynced(b!.url, 'poisoned')
    const oa = await connectSynced(a!.url, 'other')
    const ob = await connectSynced(b!.url, 'other')
    const redis = redisClient()
    try {
      const stream = docKeys(prefix, 'poisoned').stream
      await redis.xadd(stream, '*', 'i', 'intruder', 'k', 'u', 'd', Buffer.from([0xff, 0xfe, 0x01]))
      await redis.xadd(stream, '*', 'garbage', 'only')
      await redis.xadd(stream, '*', 'i', 'intruder', 'k', 'a', 'd', Buffer.from('not awareness'))
    } finally {
      redis.disconnect()
    }
    oa.text.insert(0, 'still flowing')
    await waitFor(() => ob.text.toString() === 'still flowing', { what: 'other room to keep flowing' })
    pa.text.insert(0, 'poisoned room works')
    await waitFor(() => pb.text.toString() === 'poisoned room works', {
      what: 'poisoned room to keep flowing',
    })
    for (const server of [a!, b!]) {
      await waitFor(async () => (await metric(server, 'yws_relay_errors_total', 'op="bad-entry"')) >= 3, {
        what: 'bad entries to be counted',
      })
    }
    expect(await metric(b!, 'yws_relay_resyncs_total', 'reason="bad-entry"')).toBeGreaterThan(0)
  })

  it('revoke and evict through one instance close matching clients on every instance', async () => {
    const prefix = uniquePrefix()
    const adminToken = 'admin-token-0123456789'
    const servers = await Promise.all(
      [0, 1].map((i) =>
        startServer({ redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, instanceId: `n${i}`, adminToken }),
      ),
    )
    const [a, b] = servers as [TestServer, TestServer]
    const onB = connectClient(b.url, 'secret', {})
    await waitFor(() => onB.provider.synced)
    const closes: number[] = []
    onB.provider.on('connection-close', (event: { code: number } | null) => {
      if (event) closes.push(event.code)
    })
    const response = await fetch(`http://127.0.0.1:${a.port}/admin/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ doc: 'secret' }),
    })
    expect(response.status).toBe(200)
    await waitFor(() => closes.includes(4003), { what: 'revoke to reach instance b' })
    // The provider reconnects by itself; evict must find it connected again on b.
    await waitFor(() => onB.provider.wsconnected && b.app.connectionCount === 1, { what: 'reconnect' })
    await fetch(`http://127.0.0.1:${a.port}/admin/evict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ doc: 'secret' }),
    })
    await waitFor(() => closes.includes(1000), { what: 'evict to reach instance b' })
  })
})
