/**
 * /readyz against a private redis-server that the test stops and starts again: the contract's
 * 503 while Redis is away, 200 once it is back, and the `?allowDegraded` opt-in in between.
 */
import { describe, expect, it } from 'vitest'
import { parsePrometheus } from '../helpers/prometheus.js'
import { startRedis } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

async function readyz(server: TestServer, query = ''): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/readyz${query}`)
  return { status: response.status, body: await response.json() }
}

async function readyGauge(server: TestServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
  return parsePrometheus(text).value('yws_ready')
}

describe('/readyz with Redis configured', () => {
  it('answers 503 while Redis is away and 200 after; ?allowDegraded answers 200 degraded meanwhile', async () => {
    const redis = await startRedis()
    const server = await startServer({ redisUrl: redis.url, redisPrefix: 'readyz' })
    await waitFor(async () => (await readyz(server)).status === 200, { what: '/readyz 200 with Redis up' })
    expect((await readyz(server)).body).toMatchObject({ status: 'ready', storage: true, relay: true })
    expect(await readyGauge(server)).toBe(1)

    await redis.stop()
    await waitFor(async () => (await readyz(server)).status === 503, { what: '/readyz 503 with Redis away' })
    expect((await readyz(server)).body).toMatchObject({
      status: 'not ready',
      reason: 'redis disconnected',
      storage: true,
      relay: false,
    })
    expect((await readyz(server, '?strict')).status).toBe(503)
    expect(await readyz(server, '?allowDegraded')).toMatchObject({
      status: 200,
      body: { status: 'degraded', reason: 'redis disconnected', relay: false },
    })
    expect(await readyGauge(server)).toBe(0)

    await redis.restart()
    await waitFor(async () => (await readyz(server)).status === 200, {
      what: '/readyz 200 once Redis is back',
      timeoutMs: 20_000,
    })
    expect((await readyz(server)).body).toMatchObject({ status: 'ready', relay: true })
    expect((await readyz(server, '?allowDegraded')).body).toMatchObject({ status: 'ready' })
    expect(await readyGauge(server)).toBe(1)
  })
})
