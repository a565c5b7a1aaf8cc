import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectClient, connectSynced, waitForConvergence } from '../helpers/clients.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

function clusterOf(count: number, prefix: string, extra: Parameters<typeof startServer>[0] = {}) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startServer({ redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, instanceId: `node${i}`, ...extra }),
    ),
  )
}

describe('cluster relay over Redis Streams', () => {
  it('two instances relay edits both ways', async () => {
    const prefix = uniquePrefix()
    const [a, b] = await clusterOf(2, prefix)
    const ca = await connectSynced(a!.url, 'doc')
    const cb = await connectSynced(b!.url, 'doc')
    ca.text.insert(0, 'from a ')
    cb.text.insert(0, 'from b ')
    await waitForConvergence([ca.doc, cb.doc])
    expect(ca.text.toString()).toContain('from a')
    expect(ca.text.toString()).toContain('from b')
  })
})
