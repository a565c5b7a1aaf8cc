/**
 * Two in-process instances sharing a MemoryRelayHub instead of Redis: the multi-instance
 * paths (cross-instance edits, the first sync of a late joiner, revoke through the control
 * channel) with real servers, real providers and real LevelDB, and no Redis.
 */
import { describe, expect, it } from 'vitest'
import { MemoryRelay, MemoryRelayHub } from '../../src/relay/memory-relay.js'
import { connectClient, connectSynced, waitForConvergence } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('instances sharing a MemoryRelay hub', () => {
  it('relay edits both ways, catch a late joiner up, and fan a revoke out', async () => {
    const hub = new MemoryRelayHub()
    const adminToken = 'admin-token-0123456789'
    const [a, b] = await Promise.all(
      ['m0', 'm1'].map((instanceId) =>
        startServer({ instanceId, adminToken }, { relay: new MemoryRelay(hub, instanceId) }),
      ),
    )
    const onA = await connectSynced(a!.url, 'shared')
    const onB = await connectSynced(b!.url, 'shared')
    onA.text.insert(0, 'from a ')
    onB.text.insert(0, 'from b ')
    await waitForConvergence([onA.doc, onB.doc])
    expect(onA.text.toString()).toContain('from a')
    expect(onA.text.toString()).toContain('from b')

    const c = await startServer({ instanceId: 'm2' }, { relay: new MemoryRelay(hub, 'm2') })
    const late = await connectSynced(c.url, 'shared')
    await waitForConvergence([onA.doc, late.doc])

    const watched = connectClient(b!.url, 'secret', {})
    await waitFor(() => watched.provider.synced, { what: 'the client on b to sync' })
    const closes: number[] = []
    watched.provider.on('connection-close', (event: { code: number } | null) => {
      if (event) closes.push(event.code)
    })
    const response = await fetch(`http://127.0.0.1:${a!.port}/admin/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ doc: 'secret' }),
    })
    expect(response.status).toBe(200)
    await waitFor(() => closes.includes(4003), { what: 'the revoke to reach instance b' })
  })
})
