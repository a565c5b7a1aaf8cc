/**
 * Redis faults that do not look like an outage (issue 10.3): a command dropped in flight, a
 * connection a middlebox silently forgets (black hole), a reset. Each uses a private
 * redis-server (and a TCP proxy in front of it where the network misbehaves); the edit made
 * during the fault must reach the other instance, later edits too, and the relay's health
 * (metrics, /readyz) must say what happened.
 */
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { connectSynced } from '../helpers/clients.js'
import { parsePrometheus } from '../helpers/prometheus.js'
import { freePort, startRedis } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor } from '../helpers/wait.js'

let instances = 0

function instance(redisUrl: string, commandTimeoutMs?: number): Promise<TestServer> {
  return startServer(
    { redisUrl, redisPrefix: 'faults', instanceId: `fault${instances++}` },
    commandTimeoutMs ? { relayTuning: { commandTimeoutMs } } : {},
  )
}

async function metric(
  server: TestServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return parsePrometheus(await server.app.metrics.registry.metrics()).value(name, labels)
}

/** Plain /readyz: 503 while the relay is not connected (the contract). */
async function readyStatus(server: TestServer): Promise<number> {
  return (await fetch(`http://127.0.0.1:${server.port}/readyz`)).status
}

/** The id of `server`'s command connection (ioredis names it yws-<instanceId>). */
async function commandConnectionId(admin: Redis, server: TestServer): Promise<string> {
  const list = (await admin.client('LIST')) as string
  const line = list.split('\n').find((l) => l.includes(` name=yws-${server.config.instanceId} `))
  const id = line ? /\bid=(\d+)/.exec(line)?.[1] : undefined
  if (!id) throw new Error(`no command connection for ${server.config.instanceId} in CLIENT LIST`)
  return id
}

describe('relay under Redis faults that are not an outage', () => {
  it('a command dropped in flight (CLIENT PAUSE, KILL, UNPAUSE) does not stop publishing', async () => {
    const redis = await startRedis()
    const [a, b] = await Promise.all([instance(redis.url), instance(redis.url)])
    const onA = await connectSynced(a.url, 'dropped')
    const onB = await connectSynced(b.url, 'dropped')
    onA.text.insert(0, 'before ')
    await waitFor(() => onB.text.toString() === 'before ', { what: 'the first edit on B' })

    const admin = redis.client()
    const victim = await commandConnectionId(admin, a)
    await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE')
    onA.text.insert(onA.text.length, 'during ')
    // The recipe of the report: the XADD is held by the pause when the connection is killed.
    await new Promise((resolve) => setTimeout(resolve, 300))
    await admin.client('KILL', 'ID', victim)
    await admin.call('CLIENT', 'UNPAUSE')
    const unpaused = performance.now()
    await waitFor(() => onB.text.toString() === 'before during ', { what: 'the dropped edit to reach B' })
    const resumedMs = performance.now() - unpaused
    console.log(`[figure] dropped command: edit reached B ${resumedMs.toFixed(0)} ms after CLIENT UNPAUSE`)

    onA.text.insert(onA.text.length, 'after')
    await waitFor(() => onB.text.toString() === 'before during after', { what: 'a later edit to reach B' })
    expect(await metric(a, 'yws_relay_errors_total', { op: 'xadd' })).toBeGreaterThanOrEqual(1)
    expect(await metric(a, 'yws_relay_resyncs_total', { reason: 'publish-failed' })).toBeGreaterThanOrEqual(1)
    expect(await metric(a, 'yws_relay_connected')).toBe(1)
  })

  it('a black-holed connection is detected, reported, replaced; the edit made meanwhile arrives', async () => {
    const redis = await startRedis()
    const proxy = await startTcpProxy(redis.port)
    const timeoutMs = 1000
    const [a, b] = await Promise.all([instance(proxy.url, timeoutMs), instance(redis.url)])
    const onA = await connectSynced(a.url, 'hole')
    const onB = await connectSynced(b.url, 'hole')
    onA.text.insert(0, 'before ')
    await waitFor(() => onB.text.toString() === 'before ', { what: 'the first edit on B' })
    expect(await readyStatus(a)).toBe(200)

    proxy.blackHole()
    onA.text.insert(onA.text.length, 'during ')
    await waitFor(async () => (await metric(a, 'yws_relay_connected')) === 0, {
      what: 'yws_relay_connected to drop to 0',
    })
    expect(await metric(a, 'yws_relay_timeouts_total', { op: 'xadd' })).toBeGreaterThanOrEqual(1)
    expect(await readyStatus(a)).toBe(503)
    // Local editing goes on; the opt-in probe keeps the instance in rotation.
    expect((await fetch(`http://127.0.0.1:${a.port}/readyz?allowDegraded`)).status).toBe(200)
    expect(a.logs.some((line) => String(line.msg).includes('did not answer in time'))).toBe(true)

    proxy.heal()
    await waitFor(() => onB.text.toString() === 'before during ', { what: 'the edit made meanwhile on B' })
    onA.text.insert(onA.text.length, 'after')
    await waitFor(() => onB.text.toString() === 'before during after', { what: 'a later edit on B' })
    await waitFor(async () => (await metric(a, 'yws_relay_connected')) === 1, { what: 'relay back to 1' })
    expect(await readyStatus(a)).toBe(200)
  })

  it('connections reset under it: publishing resumes, nothing is lost', async () => {
    const redis = await startRedis()
    const proxy = await startTcpProxy(redis.port)
    const [a, b] = await Promise.all([instance(proxy.url), instance(redis.url)])
    const onA = await connectSynced(a.url, 'reset')
    const onB = await connectSynced(b.url, 'reset')
    for (let round = 0; round < 3; round++) {
      onA.text.insert(onA.text.length, `r${round} `)
      proxy.reset()
    }
    await waitFor(() => onB.text.toString() === 'r0 r1 r2 ', { what: 'every edit on B' })
    onA.text.insert(onA.text.length, 'after')
    await waitFor(() => onB.text.toString() === 'r0 r1 r2 after', { what: 'a later edit on B' })
  })

  it('SIGTERM-style close drains in time while Redis answers nothing', async () => {
    const redis = await startRedis()
    const proxy = await startTcpProxy(redis.port)
    const a = await startServer(
      { redisUrl: proxy.url, redisPrefix: 'faults', instanceId: `fault${instances++}` },
      { keepOpen: true, relayTuning: { commandTimeoutMs: 1000 } },
    )
    const onA = await connectSynced(a.url, 'drain')
    onA.text.insert(0, 'x')
    proxy.blackHole()
    onA.text.insert(0, 'y')
    const started = performance.now()
    await a.close()
    const tookMs = performance.now() - started
    console.log(`[figure] close with a black-holed Redis took ${tookMs.toFixed(0)} ms`)
    expect(tookMs).toBeLessThan(9000)
  })

  it('an unreachable REDIS_URL at start is named in the log; the instance serves editors, /readyz 503 (200 degraded on opt-in)', async () => {
    const port = await freePort()
    const server = await instance(`redis://:secret@127.0.0.1:${port}`)
    const warning = server.logs.find((line) => String(line.msg).includes('unreachable at start'))
    expect(warning?.msg).toContain(`REDIS_URL (redis://***@127.0.0.1:${port})`)
    expect(warning?.msg).toContain('ECONNREFUSED')
    expect(JSON.stringify(server.logs)).not.toContain('secret')
    const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({
      status: 'not ready',
      reason: 'redis disconnected',
      relay: false,
    })
    const lenient = await fetch(`http://127.0.0.1:${server.port}/readyz?allowDegraded`)
    expect(lenient.status).toBe(200)
    expect(await lenient.json()).toMatchObject({ status: 'degraded', relay: false })
    const client = await connectSynced(server.url, 'alone')
    client.text.insert(0, 'local editing works')
    await waitFor(
      () => server.app.registry.get('alone')?.doc.getText('t').toString() === 'local editing works',
    )
  })
})
