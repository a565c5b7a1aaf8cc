/**
 * Measures the cluster relay: cross-instance latency (an edit on instance A until a client
 * on instance B has it) and the Redis memory a typical doc costs (MEMORY USAGE of its keys).
 *
 *   npx tsx scripts/cluster-measure.ts [--redis redis://127.0.0.1:6379] [--edits 2000]
 *   npx tsx scripts/cluster-measure.ts --cluster-nodes 127.0.0.1:7000,127.0.0.1:7001 [--edits 2000]
 *
 * With --cluster-nodes the instances use a Redis Cluster (REDIS_CLUSTER_NODES) instead.
 *
 * Two in-process instances with temp LevelDBs, real y-websocket providers over loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createApp } from '../src/app.js'
import { configFor } from '../src/config/config.js'
import { createLogger } from '../src/observability/logger.js'
import { compactDoc } from '../src/relay/redis-compactor.js'
import { docKeys } from '../src/relay/redis-keys.js'
import { WorkerPool } from '../src/workers/worker-pool.js'

const { values } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    edits: { type: 'string', default: '2000' },
    'cluster-nodes': { type: 'string' },
  },
})
const redisUrl = values.redis!
const clusterNodes = values['cluster-nodes']?.split(',').map((entry) => {
  const [host, port] = entry.trim().split(':')
  return { host: host!, port: Number(port) }
})
const edits = Number(values.edits)
const prefix = `measure${process.pid}`

async function instance(name: string) {
  const dataDir = await mkdtemp(join(tmpdir(), 'yws-measure-'))
  const config = configFor({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    ...(clusterNodes ? { redisClusterNodes: clusterNodes } : { redisUrl }),
    redisPrefix: prefix,
    instanceId: name,
    logLevel: 'warn',
  })
  const app = createApp(config, { logger: createLogger('warn', name) })
  const { port } = await app.start()
  return { app, port, dataDir }
}

function provider(port: number, doc: string) {
  const ydoc = new Y.Doc()
  const p = new WebsocketProvider(`ws://127.0.0.1:${port}`, doc, ydoc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  return { ydoc, p, synced: new Promise<void>((resolve) => p.once('sync', () => resolve())) }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

const a = await instance('measure-a')
const b = await instance('measure-b')
const docName = 'measure/typical-doc'
const writer = provider(a.port, docName)
const reader = provider(b.port, docName)
await Promise.all([writer.synced, reader.synced])
const text = writer.ydoc.getText('t')
const seen = reader.ydoc.getText('t')
const latencies: number[] = []
for (let i = 0; i < edits; i++) {
  const marker = `edit ${i}; `
  const started = performance.now()
  const arrived = new Promise<void>((resolve) => {
    const check = () => {
      if (seen.length === text.length) {
        seen.unobserve(check)
        resolve()
      }
    }
    seen.observe(check)
  })
  // Typing-like edits: mostly appends, sometimes a deletion.
  if (i % 10 === 9 && text.length > 10) text.delete(text.length - 5, 3)
  else text.insert(text.length, marker)
  await arrived
  latencies.push(performance.now() - started)
}
latencies.sort((x, y) => x - y)
const redis = clusterNodes ? new Cluster(clusterNodes) : new Redis(redisUrl)
// A Cluster client knows its masters only once it has loaded the slot map.
await redis.ping()
const keys = docKeys(prefix, docName)
// MEMORY USAGE is asked of every master on a Cluster: the key's owner answers, the others
// reply MOVED (counted as no answer).
const memoryUsage = async (key: string): Promise<number | null> => {
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis]
  const answers = await Promise.all(
    servers.map((server) =>
      (server.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>).catch(() => null),
    ),
  )
  return answers.find((answer) => answer !== null) ?? null
}
const memory = async () => {
  const [stream, snapshot] = await Promise.all([memoryUsage(keys.stream), memoryUsage(keys.snapshot)])
  return { stream: stream ?? 0, snapshot: snapshot ?? 0, streamEntries: await redis.xlen(keys.stream) }
}
const docBytes = Y.encodeStateAsUpdate(writer.ydoc).byteLength
const report = {
  redis: clusterNodes ? `cluster (${clusterNodes.length} seeds)` : redisUrl,
  edits,
  docChars: text.length,
  docUpdateBytes: docBytes,
  latencyMs: {
    p50: +percentile(latencies, 0.5).toFixed(2),
    p90: +percentile(latencies, 0.9).toFixed(2),
    p99: +percentile(latencies, 0.99).toFixed(2),
    max: +latencies.at(-1)!.toFixed(2),
  },
  redisBytesLive: await memory(),
  redisBytesIdle: {},
}
// An idle doc once the trim margin has passed: snapshot only (compacted here with margin 0).
const pool = new WorkerPool(1)
await compactDoc(redis, keys, {
  owner: 'measure',
  lockMs: 10_000,
  trimMarginMs: 0,
  pool,
  logger: createLogger('warn', 'measure'),
})
await pool.close()
report.redisBytesIdle = await memory()
writer.p.destroy()
reader.p.destroy()
await a.app.close()
await b.app.close()
console.log(JSON.stringify(report, null, 2))
await redis.del(keys.stream, keys.snapshot, keys.lock)
redis.disconnect()
await Promise.all([
  rm(a.dataDir, { recursive: true, force: true }),
  rm(b.dataDir, { recursive: true, force: true }),
])
