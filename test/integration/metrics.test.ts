/**
 * /metrics: valid Prometheus text, every family the contract lists, a connection gauge that
 * tracks reality, and example alert rules that only name metrics we export.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parse as parseYaml } from 'yaml'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { type Exposition, parsePrometheus } from '../helpers/prometheus.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

async function scrape(server: TestServer): Promise<Exposition> {
  const response = await httpRequest(server.port, '/metrics')
  expect(response.status).toBe(200)
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheus(response.body)
}

const REQUIRED_FAMILIES = [
  'yws_connections',
  'yws_open_docs',
  'yws_messages_received_total',
  'yws_bytes_received_total',
  'yws_messages_sent_total',
  'yws_bytes_sent_total',
  'yws_rejected_inputs_total',
  'yws_auth_failures_total',
  'yws_slow_client_drops_total',
  'yws_persist_write_seconds',
  'yws_relay_lag_seconds',
  'yws_relay_connected',
  'yws_upgrades_rejected_total',
  'yws_readonly_updates_dropped_total',
  'yws_admin_requests_total',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
]

describe('/metrics', () => {
  it('is valid Prometheus text with every family the contract lists', async () => {
    const server = await startServer()
    const metrics = await scrape(server)
    const families = metrics.families()
    for (const family of REQUIRED_FAMILIES) expect(families, family).toContain(family)
    expect(metrics.types.get('yws_persist_write_seconds')).toBe('histogram')
    expect(metrics.types.get('yws_connections')).toBe('gauge')
    // Every yws_ series carries the instance id, so a cluster's series never collide.
    const ours = metrics.samples.filter((s) => s.name.startsWith('yws_'))
    expect(ours.length).toBeGreaterThan(0)
    for (const sample of ours) expect(sample.labels.instance_id).toBe(server.config.instanceId)
  })

  it('the connection gauge equals the real number of open clients through connects and disconnects', async () => {
    const server = await startServer()
    const gauge = async () => (await scrape(server)).value('yws_connections')
    expect(await gauge()).toBe(0)
    const clients = await Promise.all([1, 2, 3].map((i) => connectSynced(server.url, `g${i % 2}`)))
    expect(await gauge()).toBe(3)
    expect(server.app.connectionCount).toBe(3)
    const raw = new WebSocket(`${server.url}/g0`)
    await new Promise((resolve) => raw.once('open', resolve))
    await waitFor(async () => (await gauge()) === 4, { what: 'gauge 4' })
    // A clean close, an abrupt one (no close frame), and a provider disconnect.
    clients[0]!.destroy()
    await waitFor(async () => (await gauge()) === 3, { what: 'gauge 3' })
    raw.terminate()
    await waitFor(async () => (await gauge()) === 2, { what: 'gauge 2 after terminate' })
    clients[1]!.provider.disconnect()
    await waitFor(async () => (await gauge()) === 1, { what: 'gauge 1' })
    expect(server.app.connectionCount).toBe(1)
    expect((await scrape(server)).value('yws_connections_total')).toBe(4)
    // g0 lost its last client and unloads after ROOM_IDLE_MS; then one doc stays open.
    await waitFor(() => server.app.registry.get('g0') === undefined, { what: 'g0 to unload' })
    expect((await scrape(server)).value('yws_open_docs')).toBe(1)
    expect(server.app.registry.size).toBe(1)
  })

  it('counts messages and bytes by type in both directions, and persistence latency', async () => {
    const server = await startServer()
    const a = await connectSynced(server.url, 'counted')
    const b = await connectSynced(server.url, 'counted')
    a.text.insert(0, 'hello')
    await waitFor(() => b.text.toString() === 'hello')
    await server.app.store.flush()
    const metrics = await scrape(server)
    expect(metrics.value('yws_messages_received_total', { type: 'update' })).toBeGreaterThanOrEqual(1)
    expect(metrics.value('yws_messages_received_total', { type: 'sync-step1' })).toBe(2)
    expect(metrics.value('yws_messages_sent_total', { type: 'update' })).toBeGreaterThanOrEqual(1)
    expect(metrics.value('yws_messages_sent_total', { type: 'sync-step1' })).toBe(2)
    expect(metrics.value('yws_bytes_received_total', { type: 'update' })).toBeGreaterThan(5)
    expect(metrics.value('yws_bytes_sent_total', { type: 'update' })).toBeGreaterThan(5)
    expect(metrics.value('yws_persist_write_seconds_count')).toBeGreaterThanOrEqual(1)
  })

  it('docs/alerts.yml is well-formed and names only exported metrics', async () => {
    const server = await startServer()
    // Let the relay-lag and persistence histograms exist with observations-free buckets.
    const families = (await scrape(server)).families()
    const rules = parseYaml(await readFile(new URL('../../docs/alerts.yml', import.meta.url), 'utf8')) as {
      groups: { name: string; rules: Record<string, unknown>[] }[]
    }
    expect(rules.groups.length).toBeGreaterThan(0)
    const named = new Set<string>()
    const alerts: string[] = []
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        expect(typeof rule.alert, JSON.stringify(rule)).toBe('string')
        expect(typeof rule.expr, String(rule.alert)).toBe('string')
        expect((rule.labels as { severity?: string }).severity, String(rule.alert)).toMatch(
          /^(critical|warning|info)$/,
        )
        expect(typeof (rule.annotations as { summary?: string }).summary).toBe('string')
        if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/)
        alerts.push(rule.alert as string)
        for (const match of (rule.expr as string).matchAll(/\b(?:yws|nodejs|process)_[a-z0-9_]+/g))
          named.add(match[0])
      }
    }
    for (const topic of ['SlowClient', 'RelayLag', 'PersistLatency', 'RedisDown', 'EventLoopLag']) {
      expect(
        alerts.some((alert) => alert.includes(topic)),
        topic,
      ).toBe(true)
    }
    expect(named.size).toBeGreaterThan(5)
    for (const name of named) {
      const family = name.replace(/_(bucket|sum|count)$/, '')
      expect(families.has(name) || families.has(family), `${name} is not exported by /metrics`).toBe(true)
    }
  })
})
