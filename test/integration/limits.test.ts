/**
 * Per-connection and per-instance limits: each one triggered for real, with its close code
 * or HTTP status, its counter, and the server still serving afterwards.
 */
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { metricValue } from '../helpers/prometheus.js'
import { openSocket } from '../helpers/raw-socket.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const QUERY_AWARENESS = Uint8Array.of(3)

describe('per-connection limits', () => {
  it('a message over MAX_MESSAGE_BYTES closes that connection with 1009, others stay', async () => {
    const server = await startServer({ maxMessageBytes: 1024 })
    const bystander = await connectSynced(server.url, 'big')
    const { ws, closed } = await openSocket(`${server.url}/big`)
    ws.send(new Uint8Array(2048), { binary: true })
    expect(await closed).toBe(1009)
    expect(await metricValue(server.app.metrics.rejectedInputs, { reason: 'too-big' })).toBe(1)
    bystander.text.insert(0, 'still editing')
    await waitFor(() => server.app.registry.get('big')?.doc.getText('t').toString() === 'still editing')
  })

  it('a client over MAX_MESSAGES_PER_SECOND (burst 2x) is closed with 1008', async () => {
    const server = await startServer({ maxMessagesPerSecond: 5 })
    const polite = await openSocket(`${server.url}/rate`)
    for (let i = 0; i < 8; i++) polite.ws.send(QUERY_AWARENESS)
    const flood = await openSocket(`${server.url}/rate`)
    for (let i = 0; i < 50; i++) flood.ws.send(QUERY_AWARENESS)
    expect(await flood.closed).toBe(1008)
    expect(await metricValue(server.app.metrics.rejectedInputs, { reason: 'rate-limited' })).toBe(1)
    expect(await metricValue(server.app.metrics.closes, { reason: 'policyViolation' })).toBe(1)
    // Within the burst: still open.
    expect(polite.ws.readyState).toBe(WebSocket.OPEN)
  })
})

describe('per-instance limits (503 on the upgrade)', () => {
  it('MAX_CONNECTIONS refuses the next upgrade with 503 + Retry-After, and frees the slot on close', async () => {
    const server = await startServer({ maxConnections: 2 })
    const a = await openSocket(`${server.url}/a`)
    await openSocket(`${server.url}/b`)
    const refused = await rawUpgrade(server.port, '/c')
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(await metricValue(server.app.metrics.upgradesRejected, { reason: 'max-connections' })).toBe(1)
    a.ws.close()
    await waitFor(() => server.app.connectionCount === 1)
    expect((await rawUpgrade(server.port, '/c')).status).toBe(101)
  })

  it('MAX_CONNECTIONS holds under a concurrent burst (upgrades still loading count)', async () => {
    const server = await startServer({ maxConnections: 3 })
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rawUpgrade(server.port, `/burst-${i}`, {}, { keepOpen: true })),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 101)).toHaveLength(3)
    expect(statuses.filter((s) => s === 503)).toHaveLength(9)
  })

  it('MAX_CONNECTIONS_PER_DOC refuses a busy doc but not another doc', async () => {
    const server = await startServer({ maxConnectionsPerDoc: 2 })
    await openSocket(`${server.url}/busy`)
    await openSocket(`${server.url}/busy`)
    expect((await rawUpgrade(server.port, '/busy')).status).toBe(503)
    expect(
      await metricValue(server.app.metrics.upgradesRejected, { reason: 'max-connections-per-doc' }),
    ).toBe(1)
    expect((await rawUpgrade(server.port, '/quiet')).status).toBe(101)
  })

  it('MAX_OPEN_DOCS refuses a new doc, serves open ones, and admits again after unload', async () => {
    const server = await startServer({ maxOpenDocs: 2, roomIdleMs: 50 })
    const one = await openSocket(`${server.url}/one`)
    await openSocket(`${server.url}/two`)
    expect((await rawUpgrade(server.port, '/three')).status).toBe(503)
    expect(await metricValue(server.app.metrics.upgradesRejected, { reason: 'max-docs' })).toBe(1)
    expect((await rawUpgrade(server.port, '/two')).status).toBe(101)
    one.ws.close()
    await waitFor(() => server.app.registry.get('one') === undefined, { what: 'doc one to unload' })
    expect((await rawUpgrade(server.port, '/three')).status).toBe(101)
  })

  it('a handshake ws aborts after the room was acquired does not pin the doc', async () => {
    const server = await startServer({ maxOpenDocs: 1, roomIdleMs: 50 })
    // `@` is not allowed in a subprotocol token: ws refuses it after our pre-checks passed.
    const aborted = await rawUpgrade(server.port, '/pinned', { 'Sec-WebSocket-Protocol': 'a@b' })
    expect(aborted.status).toBe(400)
    await waitFor(() => server.app.registry.get('pinned') === undefined, { what: 'doc to unload' })
    expect((await rawUpgrade(server.port, '/next')).status).toBe(101)
  })

  it('malformed handshakes are refused with 400 before any document loads', async () => {
    const server = await startServer()
    const cases: [Record<string, string>, { method?: string }][] = [
      [{ 'Sec-WebSocket-Key': 'short' }, {}],
      [{ 'Sec-WebSocket-Version': '12' }, {}],
      [{ Upgrade: 'h2c' }, {}],
      [{}, { method: 'POST' }],
    ]
    for (const [headers, options] of cases) {
      const response = await rawUpgrade(server.port, '/never-loaded', headers, options)
      expect(response.status).toBe(400)
    }
    expect(await metricValue(server.app.metrics.docLoadSeconds)).toBe(0)
    expect(await metricValue(server.app.metrics.upgradesRejected, { reason: 'bad-handshake' })).toBe(4)
  })
})
