/**
 * The relay on a real 3-master Redis Cluster (spawned per test on loopback): docs whose keys
 * live on different masters converge, late joiners see everything, awareness crosses
 * instances, the sweep covers a lost doorbell, and a slot migration mid-editing loses nothing.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { controlKey, docKeys, notifyChannel } from '../../src/relay/redis-keys.js'
import type { RedisRelayTuning } from '../../src/relay/redis-stream-relay.js'
import { encodeEntryFields } from '../../src/relay/stream-entry.js'
import { connectSynced, type TestClient, waitForConvergence } from '../helpers/clients.js'
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js'
import { spawnServer, startServer, type TestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

let instances = 0

function instancesOf(
  count: number,
  cluster: TestRedisCluster,
  prefix: string,
  relayTuning: Partial<RedisRelayTuning> = {},
): Promise<TestServer[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startServer(
        { redisClusterNodes: cluster.nodes, redisPrefix: prefix, instanceId: `rc${instances++}` },
        { relayTuning },
      ),
    ),
  )
}

/** Doc names whose keys land on every master (`perMaster` each). */
async function docsOnEveryMaster(cluster: TestRedisCluster, prefix: string, perMaster: number) {
  const byMaster = new Map<number, string[]>(cluster.nodes.map((node) => [node.port, []]))
  for (let i = 0; [...byMaster.values()].some((docs) => docs.length < perMaster); i++) {
    const name = `doc-${i}`
    const docs = byMaster.get(await cluster.ownerOf(docKeys(prefix, name).stream))!
    if (docs.length < perMaster) docs.push(name)
  }
  return byMaster
}

async function randomEdits(clients: readonly TestClient[], rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const [i, client] of clients.entries()) {
      const text = client.text
      if (text.length > 20 && Math.random() < 0.3)
        text.delete(Math.floor(Math.random() * (text.length - 5)), 3)
      else text.insert(Math.floor(Math.random() * (text.length + 1)), `${i}.${round} `)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function expectExactlyEqual(clients: readonly TestClient[]): void {
  const expected = Y.encodeStateAsUpdate(clients[0]!.doc)
  for (const client of clients) expect(Y.encodeStateAsUpdate(client.doc)).toEqual(expected)
}

const prefix = () => `rc${randomBytes(4).toString('hex')}`

describe('relay on a 3-master Redis Cluster', () => {
  it('3 instances x 2 providers on docs spread over all masters converge; a fresh instance sees all', async () => {
    const cluster = await startRedisCluster()
    const p = prefix()
    // A sweep this slow cannot be what delivers: the doorbells must.
    const tuning = { sweepMs: 60_000 }
    const servers = await instancesOf(3, cluster, p, tuning)
    const byMaster = await docsOnEveryMaster(cluster, p, 2)
    const docNames = [...byMaster.values()].flat()
    const byDoc = await Promise.all(
      docNames.map((name) =>
        Promise.all(servers.flatMap((server) => [0, 1].map(() => connectSynced(server.url, name)))),
      ),
    )
    await Promise.all(byDoc.map((clients) => randomEdits(clients, 15)))
    for (const clients of byDoc) {
      await waitForConvergence(clients.map((c) => c.doc))
      expectExactlyEqual(clients)
      expect(clients[0]!.text.length).toBeGreaterThan(0)
    }
    // Each master holds the streams of its docs (the data really is spread), and every
    // doorbell channel hashes to its stream's slot.
    const slotOf = async (node: ReturnType<TestRedisCluster['node']>, key: string) =>
      Number(await node.call('CLUSTER', 'KEYSLOT', key))
    for (const [port, names] of byMaster) {
      const node = cluster.node(port)
      for (const name of names) {
        const { stream } = docKeys(p, name)
        expect(await node.exists(stream)).toBe(1)
        expect(await slotOf(node, notifyChannel(stream))).toBe(await slotOf(node, stream))
      }
    }
    const anyNode = cluster.node(cluster.nodes[0]!.port)
    expect(await slotOf(anyNode, notifyChannel(controlKey(p)))).toBe(await slotOf(anyNode, controlKey(p)))
    const [fresh] = await instancesOf(1, cluster, p, tuning)
    for (const [i, name] of docNames.entries()) {
      const late = await connectSynced(fresh!.url, name)
      await waitFor(() => late.text.toString() === byDoc[i]![0]!.text.toString(), {
        what: `late joiner on ${name}`,
      })
      expect(Y.encodeStateVector(late.doc)).toEqual(Y.encodeStateVector(byDoc[i]![0]!.doc))
    }
  })

  it('relays awareness between an in-process instance and the real entry point (REDIS_CLUSTER_NODES)', async () => {
    const cluster = await startRedisCluster()
    const p = prefix()
    const [a] = await instancesOf(1, cluster, p, { sweepMs: 60_000 })
    const b = await spawnServer({
      REDIS_CLUSTER_NODES: cluster.nodes.map((node) => `${node.host}:${node.port}`).join(','),
      REDIS_PREFIX: p,
      INSTANCE_ID: `rc${instances++}`,
      DATA_DIR: await tempDir('yws-data-'),
    })
    const watcher = await connectSynced(b.url, 'aware')
    const editor = await connectSynced(a!.url, 'aware')
    editor.provider.awareness.setLocalStateField('user', { name: 'ada' })
    const editorId = editor.doc.clientID
    await waitFor(
      () =>
        (watcher.provider.awareness.getStates().get(editorId) as { user?: { name?: string } } | undefined)
          ?.user?.name === 'ada',
      { what: 'cursor on the other instance' },
    )
    watcher.text.insert(0, 'from the spawned one')
    await waitFor(() => editor.text.toString() === 'from the spawned one', { what: 'an edit the other way' })
    editor.destroy()
    await waitFor(() => !watcher.provider.awareness.getStates().has(editorId), { what: 'cursor removed' })
  })

  it('an entry appended without a doorbell (a lost notification) arrives by the sweep', async () => {
    const cluster = await startRedisCluster()
    const p = prefix()
    const [a] = await instancesOf(1, cluster, p, { sweepMs: 300 })
    const reader = await connectSynced(a!.url, 'quiet')
    const source = new Y.Doc()
    source.getText('t').insert(0, 'no bell rang')
    const update = Y.encodeStateAsUpdate(source)
    // XADD as another instance would, but without SPUBLISH.
    await cluster
      .client()
      .xadd(docKeys(p, 'quiet').stream, '*', ...encodeEntryFields('elsewhere', 'u', update))
    await waitFor(() => reader.text.toString() === 'no bell rang', { what: 'the sweep to deliver the entry' })
  })

  it('a slot migration while both instances edit loses nothing', async () => {
    const cluster = await startRedisCluster()
    const p = prefix()
    const [a, b] = await instancesOf(2, cluster, p, { sweepMs: 500 })
    const doc = 'moving'
    const stream = docKeys(p, doc).stream
    const clients = [
      await connectSynced(a!.url, doc),
      await connectSynced(b!.url, doc),
      await connectSynced(a!.url, doc),
    ]
    const from = await cluster.ownerOf(stream)
    const to = cluster.nodes.find((node) => node.port !== from)!.port
    const slot = Number(await cluster.node(from).call('CLUSTER', 'KEYSLOT', stream))
    let editing = true
    const edits = (async () => {
      for (let round = 0; editing && round < 2000; round++) {
        await randomEdits(clients, 1)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()
    await waitFor(() => clients[0]!.text.length > 100, { what: 'some edits before the move' })
    await cluster.migrateSlot(slot, to)
    const lengthAtMove = clients[0]!.text.length
    await waitFor(() => clients[1]!.text.length > lengthAtMove + 100, { what: 'edits after the move' })
    editing = false
    await edits
    await waitForConvergence(clients.map((c) => c.doc))
    expectExactlyEqual(clients)
    expect(await cluster.ownerOf(stream)).toBe(to)
    expect(await cluster.node(to).exists(stream)).toBe(1)
    // The doorbell subscriptions followed the slot to its new owner (both instances).
    await waitFor(
      async () =>
        (
          (await cluster.node(to).call('PUBSUB', 'SHARDNUMSUB', notifyChannel(stream))) as [string, number]
        )[1] === 2,
      { what: 'subscriptions on the new owner' },
    )
    const [fresh] = await instancesOf(1, cluster, p)
    const late = await connectSynced(fresh!.url, doc)
    await waitFor(() => late.text.toString() === clients[0]!.text.toString(), {
      what: 'late joiner after the move',
    })
  })
})
