/**
 * Real Redis for cluster tests: the shared one on 127.0.0.1:6379 with a unique key prefix
 * per test, or a private `redis-server` on a free loopback port for tests that kill and
 * restart it (no persistence: a restart comes back empty).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { onTestFinished } from 'vitest'

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other test uses; its keys are deleted when the test ends. */
export function uniquePrefix(): string {
  const prefix = `t${randomBytes(5).toString('hex')}`
  onTestFinished(async () => {
    const redis = new Redis(SHARED_REDIS_URL)
    try {
      const keys = await redis.keys(`${prefix}:*`)
      if (keys.length > 0) await redis.del(...keys)
    } finally {
      redis.disconnect()
    }
  })
  return prefix
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface TestRedis {
  readonly port: number
  readonly url: string
  /** A client for inspecting or poking at the data (closed at teardown). */
  client(): Redis
  stop(): Promise<void>
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>
}

/** A private redis-server on a free loopback port, stopped when the test ends. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const clients: Redis[] = []
  const launch = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => 20,
      maxRetriesPerRequest: null,
    })
    // Refused connections are expected until the server listens; ping below waits for it.
    probe.on('error', () => undefined)
    try {
      await probe.connect().catch(() => undefined)
      await probe.ping()
    } finally {
      probe.disconnect()
    }
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL')
    await exited
  }
  await launch()
  onTestFinished(async () => {
    for (const client of clients) client.disconnect()
    await stop()
  })
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null })
      // The test stops this server on purpose; the client reconnects when it is back.
      client.on('error', () => undefined)
      clients.push(client)
      return client
    },
    stop,
    restart: async () => {
      await stop()
      await launch()
    },
  }
}
