/**
 * A set of real server processes for tests that span instances: two instances sharing Redis
 * when cluster mode is available, otherwise one standalone instance that every "instance"
 * index maps to. Cluster mode may not be built yet: the entry point then fails fast with
 * "cluster mode ... not available yet", which we detect and fall back on, saying so in
 * `label` so test names and logs tell which topology really ran.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { type SpawnedServer, spawnServer } from './server.js'
import { tempDirKeep } from './temp-dir.js'

export interface Instance {
  readonly server: SpawnedServer
  readonly url: string
  readonly env: Record<string, string>
}

export interface Topology {
  /** True when two instances relay through Redis. */
  readonly clustered: boolean
  /** For test names and logs, e.g. "two instances via Redis". */
  readonly label: string
  /** The WebSocket URL of instance `index` (modulo the number running). */
  url(index: number): string
  instance(index: number): Instance
  /** SIGTERM (graceful: must exit 0), then start again on the same port and DATA_DIR. */
  restart(index: number): Promise<void>
  /** Stops the instance (SIGTERM, exit 0 expected) without starting it again. */
  stop(index: number): Promise<number | string>
  /** Starts a stopped instance again on its port and DATA_DIR. */
  start(index: number): Promise<void>
  close(): Promise<void>
}

const CLUSTER_MISSING = /cluster mode .*not available yet/

function redisReachable(url: string, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Starts the topology (for beforeAll/top-level use: call close() yourself). `redisPrefix`:
 * e.g. `uniquePrefix()` inside a test, whose keys are then deleted when the test ends.
 */
export async function startTopology(options: { redisPrefix?: string } = {}): Promise<Topology> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  // One prefix per run so parallel runs and leftovers in Redis never mix.
  const redisPrefix = options.redisPrefix ?? `ywsb${randomBytes(4).toString('hex')}`
  const dirs = await Promise.all([tempDirKeep('yws-inst0-'), tempDirKeep('yws-inst1-')])
  const envFor = (index: number, cluster: boolean): Record<string, string> => ({
    DATA_DIR: dirs[index]!.path,
    INSTANCE_ID: `browser-${index}`,
    // Empty means unset to the server: standalone must not inherit a REDIS_URL from our env.
    ...(cluster
      ? { REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix }
      : { REDIS_URL: '', REDIS_CLUSTER_NODES: '' }),
  })

  const spawnInstance = async (env: Record<string, string>): Promise<Instance> => {
    const server = await spawnServer(env, { keepOpen: true })
    return { server, url: server.url, env }
  }
  const instances: Instance[] = []
  let clustered = false
  let label = 'one standalone instance (Redis not reachable)'
  try {
    if (await redisReachable(redisUrl)) {
      try {
        instances.push(await spawnInstance(envFor(0, true)))
        clustered = true
        label = 'two instances via Redis'
      } catch (error) {
        if (!CLUSTER_MISSING.test(String(error))) throw error
        label = 'one standalone instance (cluster mode not available yet)'
      }
    }
    instances.push(await spawnInstance(clustered ? envFor(1, true) : envFor(0, false)))
  } catch (error) {
    // Nobody will call close() on a topology that failed to start: clean up here.
    await Promise.all(instances.map((instance) => instance.server.kill('SIGKILL')))
    await Promise.all(dirs.map((dir) => dir.remove()))
    throw error
  }

  const at = (index: number) => index % instances.length
  const stop = async (index: number) => instances[at(index)]!.server.kill('SIGTERM')
  const start = async (index: number) => {
    const old = instances[at(index)]!
    const env = { ...old.env, PORT: String(old.server.port) }
    instances[at(index)] = await spawnInstance(env)
  }
  return {
    clustered,
    label,
    url: (index) => instances[at(index)]!.url,
    instance: (index) => instances[at(index)]!,
    stop,
    start,
    async restart(index) {
      const code = await stop(index)
      if (code !== 0) throw new Error(`instance ${index} exited with ${code} on SIGTERM, expected 0`)
      await start(index)
    },
    async close() {
      await Promise.all(instances.map((instance) => instance.server.kill('SIGKILL')))
      await Promise.all(dirs.map((dir) => dir.remove()))
    },
  }
}
