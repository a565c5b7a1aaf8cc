/**
 * A private 3-master Redis Cluster for tests: three `redis-server --cluster-enabled yes`
 * processes on free loopback ports in a temp dir (no persistence), joined with
 * `redis-cli --cluster create ... --cluster-replicas 0`, ready once every node reports
 * `cluster_state:ok` and agrees on the slot map. Everything is killed when the test ends.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { onTestFinished } from 'vitest'
import { freePort } from './redis.js'
import { tempDir } from './temp-dir.js'
import { waitFor } from './wait.js'

const run = promisify(execFile)

export interface TestRedisCluster {
  readonly nodes: readonly { host: string; port: number }[]
  /** A direct (non-cluster) client to one node, closed at teardown. */
  node(port: number): Redis
  /** A cluster client for inspecting data, closed at teardown. */
  client(): Cluster
  /** The port of the master that serves `key`'s slot right now. */
  ownerOf(key: string): Promise<number>
  /** Moves one slot to the master on `toPort` (MIGRATING/IMPORTING, MIGRATE keys, SETSLOT NODE). */
  migrateSlot(slot: number, toPort: number): Promise<void>
}

export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = await tempDir('yws-rcluster-')
  const ports = await Promise.all(Array.from({ length: masters }, () => freePort()))
  const children: ChildProcess[] = []
  const clients: (Redis | Cluster)[] = []
  onTestFinished(async () => {
    for (const client of clients) client.disconnect()
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        return exited
      }),
    )
  })
  for (const port of ports) {
    children.push(
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      ),
    )
  }
  const node = (port: number): Redis => {
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 20 })
    // Refused until the server listens; commands wait for the connection.
    client.on('error', () => undefined)
    clients.push(client)
    return client
  }
  const direct = new Map(ports.map((port) => [port, node(port)]))
  await Promise.all([...direct.values()].map((client) => client.ping()))
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { timeout: 20_000 },
  )
  await waitFor(
    async () => {
      for (const client of direct.values()) {
        const info = String(await client.call('CLUSTER', 'INFO'))
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`))
          return false
      }
      return true
    },
    { timeoutMs: 20_000, what: 'cluster_state:ok on every node' },
  )
  const ownerOf = async (key: string): Promise<number> => {
    const any = direct.get(ports[0]!)!
    const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key))
    const shards = (await any.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][]
    const range = shards.find(([from, to]) => slot >= from && slot <= to)
    if (!range) throw new Error(`slot ${slot} is not served`)
    return range[2][1]
  }
  const nodeId = async (port: number) => String(await direct.get(port)!.call('CLUSTER', 'MYID'))
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    node,
    client() {
      const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0]! }])
      cluster.on('error', () => undefined)
      clients.push(cluster)
      return cluster
    },
    ownerOf,
    async migrateSlot(slot, toPort) {
      const shards = (await direct.get(ports[0]!)!.call('CLUSTER', 'SLOTS')) as [
        number,
        number,
        [string, number, string],
      ][]
      const fromPort = shards.find(([from, to]) => slot >= from && slot <= to)![2][1]
      if (fromPort === toPort) return
      const source = direct.get(fromPort)!
      const target = direct.get(toPort)!
      const [sourceId, targetId] = await Promise.all([nodeId(fromPort), nodeId(toPort)])
      // The documented order: IMPORTING on the target first, then MIGRATING on the source.
      await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId)
      await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId)
      for (;;) {
        const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[]
        if (keys.length === 0) break
        await source.call('MIGRATE', '127.0.0.1', String(toPort), '', '0', '5000', 'KEYS', ...keys)
      }
      for (const client of [target, source, ...direct.values()]) {
        await client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId)
      }
      await waitFor(() => slotOwnerEverywhere(slot, toPort), { what: `slot ${slot} owned by ${toPort}` })
    },
  }

  async function slotOwnerEverywhere(slot: number, port: number): Promise<boolean> {
    for (const client of direct.values()) {
      const shards = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][]
      const range = shards.find(([from, to]) => slot >= from && slot <= to)
      if (!range || range[2][1] !== port) return false
    }
    return true
  }
}
