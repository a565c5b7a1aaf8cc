/**
 * Failure modes of a cluster, each with a private redis-server (killed and restarted empty)
 * or a child-process instance (SIGKILL, drain): nothing any instance accepted is lost.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectClient, connectSynced, type TestClient, waitForConvergence } from '../helpers/clients.js'
import { startRedis } from '../helpers/redis.js'
import { spawnServer, startServer, type TestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

let instances = 0

function instance(redisUrl: string, prefix = 'yws'): Promise<TestServer> {
  return startServer({ redisUrl, redisPrefix: prefix, instanceId: `outage${instances++}` })
}

/** Plain /readyz: 503 while Redis is away (the contract); `?allowDegraded` opts in to 200. */
async function readyStatus(port: number, query = ''): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz${query}`)).status
}

function edit(clients: readonly TestClient[], label: string): void {
  for (const [i, client] of clients.entries()) {
    // At the start: a random position could split another client's label in two.
    client.text.insert(0, `${label}${i} `)
  }
}

describe('cluster failure modes', () => {
  it('survives Redis restarting EMPTY mid-editing: local editing goes on, then full convergence', async () => {
    const redis = await startRedis()
    const servers = await Promise.all([0, 1, 2].map(() => instance(redis.url)))
    const clients = await Promise.all(
      servers.flatMap((server) => [0, 1].map(() => connectSynced(server.url, 'outage/doc'))),
    )
    edit(clients, 'before')
    await waitForConvergence(clients.map((c) => c.doc))
    for (const server of servers) expect(await readyStatus(server.port)).toBe(200)

    await redis.stop()
    await waitFor(async () => (await readyStatus(servers[0]!.port)) === 503, {
      what: '/readyz to turn 503',
    })
    const plain = await fetch(`http://127.0.0.1:${servers[0]!.port}/readyz`)
    expect(plain.status).toBe(503)
    expect(await plain.json()).toMatchObject({
      status: 'not ready',
      reason: 'redis disconnected',
      storage: true,
    })
    expect(await readyStatus(servers[0]!.port, '?strict')).toBe(503) // kept as an alias
    // The opt-in: degraded but ready, so a Redis outage need not empty the load balancer.
    const lenient = await fetch(`http://127.0.0.1:${servers[0]!.port}/readyz?allowDegraded`)
    expect(lenient.status).toBe(200)
    expect(await lenient.json()).toMatchObject({ status: 'degraded', relay: false, storage: true })
    edit(clients, 'during')
    // Local editing continues: the two clients of one instance still see each other.
    await waitForConvergence([clients[0]!.doc, clients[1]!.doc])

    await redis.restart()
    edit(clients, 'after')
    await waitForConvergence(
      clients.map((c) => c.doc),
      20_000,
    )
    for (const server of servers) {
      await waitFor(async () => (await readyStatus(server.port)) === 200, { what: '/readyz back to 200' })
      // Two detectors see an empty restart: the changed run id ("redis-restarted") and the
      // missing generation marker ("redis-data-lost", issue 10.2); whichever fires first
      // resyncs the rooms, and either way the resync must have been counted.
      expect(await server.app.metrics.registry.getSingleMetricAsString('yws_relay_resyncs_total')).toMatch(
        /reason="redis-(restarted|data-lost)"/,
      )
    }
    const text = clients[0]!.text.toString()
    for (const label of ['before', 'during', 'after']) {
      for (let i = 0; i < clients.length; i++) expect(text).toContain(`${label}${i} `)
    }
    // Redis came back empty; a fresh instance still sees everything (re-published from the rooms).
    const fresh = await instance(redis.url)
    const late = await connectSynced(fresh.url, 'outage/doc')
    await waitFor(() => late.text.toString() === text, { what: 'fresh instance to see everything' })
  })

  it('an instance SIGKILLed mid-editing loses nothing it relayed; others keep going; it restarts caught up', async () => {
    const redis = await startRedis()
    const prefix = 'kill'
    const survivor = await instance(redis.url, prefix)
    const dataDir = await tempDir('yws-victim-')
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, DATA_DIR: dataDir }
    const victim = await spawnServer({ ...env, INSTANCE_ID: 'victim' })
    const onVictim = await connectSynced(victim.url, 'k')
    const onSurvivor = await connectSynced(survivor.url, 'k')
    for (let i = 0; i < 50; i++) onVictim.text.insert(0, `v${i} `)
    await waitForConvergence([onVictim.doc, onSurvivor.doc])
    const beforeKill = onSurvivor.text.toString()

    expect(await victim.kill('SIGKILL')).toBe('SIGKILL')
    onVictim.destroy()
    const other = await connectSynced(survivor.url, 'k')
    onSurvivor.text.insert(0, 'while victim is dead ')
    await waitFor(() => other.text.toString() === onSurvivor.text.toString())
    expect(onSurvivor.text.toString()).toContain(beforeKill)

    // Restarted on the same LevelDB under a new id: it catches up from Redis.
    const reborn = await spawnServer({ ...env, INSTANCE_ID: 'reborn' })
    const onReborn = await connectSynced(reborn.url, 'k')
    await waitFor(() => onReborn.text.toString() === onSurvivor.text.toString(), {
      what: 'restart to catch up',
    })
    onReborn.text.insert(0, 'reborn says hi ')
    await waitForConvergence([onReborn.doc, onSurvivor.doc, other.doc])
  })

  it('drain in cluster mode (admin and SIGTERM): clients get 1012, the instance exits 0, its edits live on elsewhere', async () => {
    const redis = await startRedis()
    const prefix = 'drain'
    const adminToken = 'drain-admin-token-123'
    const stays = await instance(redis.url, prefix)
    for (const how of ['admin', 'SIGTERM'] as const) {
      const leaving = await spawnServer({
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        DATA_DIR: await tempDir('yws-drain-'),
        INSTANCE_ID: `leaving-${how}`,
        ADMIN_TOKEN: adminToken,
      })
      const client = connectClient(leaving.url, 'rolling')
      await waitFor(() => client.provider.synced)
      const closes: number[] = []
      client.provider.on('connection-close', (event: { code: number } | null) => {
        if (event) closes.push(event.code)
      })
      client.text.insert(0, `written via ${how} `)
      if (how === 'admin') {
        const response = await fetch(`${leaving.httpUrl}/admin/drain`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}` },
        })
        expect(response.status).toBe(202)
      } else {
        leaving.process.kill('SIGTERM')
      }
      expect(await leaving.exited).toBe(0)
      expect(closes).toContain(1012)
      client.destroy()
      const elsewhere = await connectSynced(stays.url, 'rolling')
      await waitFor(() => elsewhere.text.toString().includes(`written via ${how}`), {
        what: 'edit to live on',
      })
    }
    const final = await connectSynced(stays.url, 'rolling')
    expect(Y.encodeStateVector(final.doc).length).toBeGreaterThan(1)
  })
})
