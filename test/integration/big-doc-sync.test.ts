/**
 * Issue 10 parts 5 and 6: a big document must reach a new client over a slow link (the stock
 * client gives up after 30 s without a message) and whatever its size relative to the send
 * budget. Real providers; a throttling TCP proxy plays the slow link.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { connectClient, connectSynced } from '../helpers/clients.js'
import { metricValue } from '../helpers/prometheus.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { startThrottleProxy } from '../helpers/throttle-proxy.js'
import { waitFor } from '../helpers/wait.js'

/** Incompressible text of `bytes` ASCII characters. */
const noise = (bytes: number): string =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes)

/** Writes `chunks` inserts of `chunkBytes` each through a provider, one update each. */
async function seed(
  server: TestServer,
  docName: string,
  chunks: number,
  chunkBytes: number,
): Promise<string> {
  const writer = await connectSynced(server.url, docName)
  for (let i = 0; i < chunks; i++) {
    writer.text.insert(writer.text.length, noise(chunkBytes))
    const expected = writer.text.length
    await waitFor(() => server.app.registry.get(docName)?.doc.getText('t').length === expected, {
      what: `chunk ${i + 1} of ${chunks} on the server`,
      timeoutMs: 30_000,
    })
  }
  const content = writer.text.toString()
  writer.destroy()
  return content
}

/** Syncs a fresh provider through a proxy at `bytesPerSecond`; returns ms to synced. */
async function slowSync(server: TestServer, docName: string, content: string, bytesPerSecond: number) {
  const proxy = await startThrottleProxy(server.port, bytesPerSecond)
  const started = performance.now()
  const reader = connectClient(proxy.url, docName)
  let disconnects = 0
  reader.provider.on('status', ({ status }: { status: string }) => {
    if (status === 'disconnected') disconnects++
  })
  const timeoutMs = Math.ceil((content.length / bytesPerSecond) * 1000 * 2) + 10_000
  await waitFor(() => reader.provider.synced, { what: 'the slow reader to sync', timeoutMs, intervalMs: 100 })
  const ms = Math.round(performance.now() - started)
  expect(disconnects).toBe(0)
  expect(reader.text.toString() === content).toBe(true)
  reader.destroy()
  return ms
}

describe('big documents reach new clients (issue 10)', () => {
  const slowMb = Number(process.env.SLOW_SYNC_MB ?? 1.6)
  const rate = Number(process.env.SLOW_SYNC_RATE ?? 40_000)
  it(`a ${slowMb} MB doc syncs over a ${rate / 1000} kB/s link without the client giving up`, async () => {
    const server = await startServer()
    const content = await seed(server, 'slow-link', 8, Math.round((slowMb * 1e6) / 8))
    const ms = await slowSync(server, 'slow-link', content, rate)
    console.info(
      `[figure] ${slowMb} MB first sync at ${rate / 1000} kB/s: synced in ${(ms / 1000).toFixed(1)} s`,
    )
    // One message of the whole doc would need content/rate > 30 s: the stock client's limit.
    expect(ms).toBeGreaterThan(30_000 * (slowMb / 1.6) * 0.9)
  }, 240_000)

  it('a 20 MB doc (over MAX_BUFFERED_BYTES) stays openable by a fresh provider', async () => {
    const server = await startServer({ maxMessageBytes: 6 * 1024 * 1024 })
    expect(server.config.maxBufferedBytes).toBeLessThan(20e6)
    const content = await seed(server, 'huge', 4, 5e6)
    const started = performance.now()
    const reader = connectClient(server.url, 'huge')
    // Generous: 20 MB through split, socket and the client's apply on a shared CI box.
    await waitFor(() => reader.provider.synced, { what: 'the fresh provider to sync', timeoutMs: 60_000 })
    console.info(`[figure] 20 MB first sync over loopback: ${Math.round(performance.now() - started)} ms`)
    expect(reader.text.length).toBe(content.length)
    expect(reader.text.toString() === content).toBe(true)
    expect(await metricValue(server.app.metrics.closes, { reason: 'tryAgainLater' })).toBe(0)
  }, 120_000)
})
