/**
 * Durability and process lifecycle through the real entry point (child processes):
 * SIGTERM flushes and closes clients with 1012; SIGKILL keeps everything older than 1 s;
 * bad configuration stops start-up with one clear line.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { connectClient, connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { spawnServer, startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

describe('process lifecycle', () => {
  it('SIGTERM flushes, closes clients with 1012, exits 0; a restart serves everything', async () => {
    const dataDir = await tempDir()
    const first = await spawnServer({ DATA_DIR: dataDir })
    const editor = await connectSynced(first.url, 'durable')
    const closeCodes: number[] = []
    editor.provider.on('connection-close', (event: { code: number } | null) => {
      if (event) closeCodes.push(event.code)
    })
    for (let i = 0; i < 200; i++) editor.text.insert(editor.text.length, `${i},`)
    const expected = editor.text.toString()
    // Let the last update reach the server (it is received once the server echoes nothing
    // back for updates, so wait for its stored copy via a second client instead).
    const watcher = await connectSynced(first.url, 'durable')
    await waitFor(() => watcher.text.toString() === expected)
    editor.provider.shouldConnect = false
    watcher.destroy()

    const started = Date.now()
    expect(await first.kill('SIGTERM')).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
    await waitFor(() => closeCodes.length > 0)
    expect(closeCodes[0]).toBe(1012)

    const second = await spawnServer({ DATA_DIR: dataDir })
    const reader = await connectSynced(second.url, 'durable')
    expect(reader.text.toString()).toBe(expected)
  })

  it('after SIGKILL keeps every update older than one second', async () => {
    const dataDir = await tempDir()
    const first = await spawnServer({ DATA_DIR: dataDir })
    const editor = await connectSynced(first.url, 'crash')
    const watcher = await connectSynced(first.url, 'crash')
    editor.text.insert(0, 'survives the crash')
    await waitFor(() => watcher.text.toString() === 'survives the crash')
    // The promise is "on disk within 1 s": wait for exactly that window, then crash.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    editor.provider.shouldConnect = false
    watcher.provider.shouldConnect = false
    await first.kill('SIGKILL')

    const second = await spawnServer({ DATA_DIR: dataDir })
    const reader = await connectSynced(second.url, 'crash')
    expect(reader.text.toString()).toBe('survives the crash')
  })

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ REDIS_URL: '::nope::' }, /REDIS_URL is not a valid URL/],
    [{ MAX_DOC_BYTES: '12abc' }, /MAX_DOC_BYTES/],
  ])('bad configuration %o exits non-zero with one clear line', async (env, message) => {
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, ...env } })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk)
    })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(message)
  })

  it('an unusable DATA_DIR stops start-up with a clear message', async () => {
    const dir = await tempDir()
    const file = `${dir}/not-a-dir`
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'))
    await expect(spawnServer({ DATA_DIR: file })).rejects.toThrow(/start-up failed: cannot open LevelDB/)
  })
})

describe('room lifecycle', () => {
  it('unloads an idle room after the grace period and reloads it intact', async () => {
    const server = await startServer({ roomIdleMs: 50 })
    const editor = await connectSynced(server.url, 'idle')
    editor.text.insert(0, 'kept')
    const watcher = await connectSynced(server.url, 'idle')
    await waitFor(() => watcher.text.toString() === 'kept')
    editor.destroy()
    watcher.destroy()
    await waitFor(() => server.app.registry.get('idle') === undefined, { what: 'room unload' })
    expect(server.app.registry.size).toBe(0)
    const reader = await connectSynced(server.url, 'idle')
    expect(reader.text.toString()).toBe('kept')
  })

  it('concurrent joins share one load and all see the stored doc', async () => {
    const dataDir = await tempDir()
    const seed = await startServer({ dataDir }, { keepOpen: true })
    const writer = await connectSynced(seed.url, 'popular')
    writer.text.insert(0, 'x'.repeat(1000))
    const check = await connectSynced(seed.url, 'popular')
    await waitFor(() => check.text.length === 1000)
    writer.destroy()
    check.destroy()
    await seed.close()

    const server = await startServer({ dataDir })
    const clients = Array.from({ length: 20 }, () => connectClient(server.url, 'popular'))
    await waitFor(() => clients.every((client) => client.provider.synced))
    for (const client of clients) expect(client.text.length).toBe(1000)
    const loads = await server.app.metrics.registry.getSingleMetricAsString('yws_doc_load_seconds')
    expect(loads).toMatch(/yws_doc_load_seconds_count\{[^}]*\} 1$/m)
  })

  it('a dead peer that stops answering pings is dropped by the heartbeat', async () => {
    const server = await startServer({ heartbeatMs: 100 })
    const client = await connectSynced(server.url, 'heartbeat')
    expect(server.app.connectionCount).toBe(1)
    // Simulate a dead peer: stop the client's socket from answering pings.
    const socket = (client.provider.ws as unknown as { _socket: import('node:net').Socket })._socket
    client.provider.shouldConnect = false
    socket.pause()
    await waitFor(() => server.app.connectionCount === 0, { what: 'heartbeat drop' })
    const metric = await server.app.metrics.registry.getSingleMetricAsString('yws_connection_closes_total')
    expect(metric).toContain('reason="heartbeatTimeout"')
  })

  it('serves /healthz and /readyz', async () => {
    const server = await startServer()
    const base = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', storage: true })
    await server.close()
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  })
})

describe('open-docs cap', () => {
  it('unloads an idle room to make way for a wanted one', async () => {
    const server = await startServer({ maxOpenDocs: 2, roomIdleMs: 60_000 })
    const first = await connectSynced(server.url, 'one')
    first.text.insert(0, 'idle but kept')
    const check = await connectSynced(server.url, 'one')
    await waitFor(() => check.text.toString() === 'idle but kept')
    first.destroy()
    check.destroy()
    const busy = await connectSynced(server.url, 'two')
    await waitFor(() => server.app.registry.get('one')?.connectionCount === 0)
    // 'one' is idle (within its grace period), 'two' is busy: 'three' evicts 'one'.
    const third = await connectSynced(server.url, 'three')
    expect(server.app.registry.get('one')).toBeUndefined()
    expect(busy.provider.wsconnected && third.provider.wsconnected).toBe(true)
    // With both rooms busy the cap holds: 503 before any upgrade.
    expect((await rawUpgrade(server.port, '/one')).status).toBe(503)
    // The evicted room was flushed: its content comes back once there is room.
    third.destroy()
    await waitFor(() => server.app.registry.get('three')?.connectionCount === 0)
    const reopened = await connectSynced(server.url, 'one')
    expect(reopened.text.toString()).toBe('idle but kept')
  })
})
