/**
 * INSTANCE_ID is a label, not an identity: two live instances sharing one (the default
 * `<host name>-<port>` for two library servers on one host, or one PORT behind two HOSTs)
 * still relay to each other, because "mine" is told by the relay's random nonce. Real
 * servers on the shared Redis (a unique key prefix), real y-websocket providers.
 */
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'
import { docKeys } from '../../src/relay/redis-keys.js'
import { encodeEntryFields } from '../../src/relay/stream-entry.js'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const SHARED_ID = 'same-host-1234'

function twins(prefix: string): Promise<TestServer[]> {
  const config = { redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, instanceId: SHARED_ID }
  return Promise.all([startServer(config), startServer(config)])
}

function clashWarnings(server: TestServer): Record<string, unknown>[] {
  return server.logs.filter((line) => String(line.msg).includes(`INSTANCE_ID "${SHARED_ID}" too`))
}

describe('two instances with the same INSTANCE_ID', () => {
  it('converge both ways, relay awareness, and each warns once that the id is shared', async () => {
    const [a, b] = await twins(uniquePrefix())
    const onA = await connectSynced(a!.url, 'twin-doc')
    const onB = await connectSynced(b!.url, 'twin-doc')
    onA.text.insert(0, 'A')
    onB.text.insert(0, 'B')
    for (let i = 0; i < 20; i++) (i % 2 ? onA : onB).text.insert(0, `${i} `)
    await waitForConvergence([onA.doc, onB.doc])
    expect(onA.text.length).toBeGreaterThan(40)

    // Awareness both ways, and a joiner's "who is here?" is answered by its twin.
    onA.provider.awareness.setLocalStateField('user', { name: 'ada' })
    const adaId = onA.doc.clientID
    await waitFor(() => onB.provider.awareness.getStates().has(adaId), { what: 'a’s cursor on b' })
    const late = await connectSynced(b!.url, 'twin-aware')
    const early = await connectSynced(a!.url, 'twin-aware')
    early.provider.awareness.setLocalStateField('user', { name: 'bob' })
    await waitFor(() => late.provider.awareness.getStates().has(early.doc.clientID), { what: 'bob on b' })

    await waitFor(() => clashWarnings(a!).length > 0 && clashWarnings(b!).length > 0, {
      what: 'both to warn about the shared INSTANCE_ID',
    })
    expect(clashWarnings(a!)).toHaveLength(1)
    expect(clashWarnings(b!)).toHaveLength(1)
    expect(clashWarnings(a!)[0]!.level).toBe('warn')
  })

  it('an entry of an older version (no nonce) with our own INSTANCE_ID is applied, not taken for an echo', async () => {
    const prefix = uniquePrefix()
    const server = await startServer({
      redisUrl: SHARED_REDIS_URL,
      redisPrefix: prefix,
      instanceId: SHARED_ID,
    })
    const client = await connectSynced(server.url, 'upgrade')
    const redis = new Redis(SHARED_REDIS_URL)
    onTestFinished(() => void redis.quit())
    const old = new Y.Doc()
    old.getText('t').insert(0, 'from an old-version twin')
    // The field list of versions before nonces: `i`, `k`, `d` only.
    const fields = encodeEntryFields(SHARED_ID, 'u', Y.encodeStateAsUpdate(old))
    expect(fields.map(String).slice(0, 4)).toEqual(['i', SHARED_ID, 'k', 'u'])
    await redis.xadd(docKeys(prefix, 'upgrade').stream, '*', ...fields)
    await waitFor(() => client.text.toString() === 'from an old-version twin', {
      what: 'the old entry applied',
    })
  })
})
