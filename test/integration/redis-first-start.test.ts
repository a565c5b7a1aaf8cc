/**
 * The first start on a fresh Redis (or REDIS_PREFIX) creates the data generation marker:
 * that is information, not the "Redis lost its data" warning an operator would be paged for.
 * A real wipe while the instance runs still warns (the repair itself: redis-wipe.test.ts).
 * Private redis-server per test.
 */
import { describe, expect, it } from 'vitest'
import { startRedis } from '../helpers/redis.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const LOST = 'Redis lost its data'

function mentions(server: TestServer, text: string, level?: string) {
  return server.logs.filter(
    (line) => String(line.msg).includes(text) && (level === undefined || line.level === level),
  )
}

describe('the Redis generation marker', () => {
  it('is created at first start with an info line, and a later wipe still warns', async () => {
    const redis = await startRedis()
    const server = await startServer(
      { redisUrl: redis.url, redisPrefix: 'fresh', instanceId: 'first-start' },
      { relayTuning: { generationCheckMs: 200 } },
    )
    await waitFor(() => mentions(server, 'generation marker created').length === 1, {
      what: 'the info line for the new marker',
    })
    expect(mentions(server, 'generation marker created')[0]!.level).toBe('info')
    expect(await redis.client().exists('fresh:generation')).toBe(1)
    expect(mentions(server, LOST)).toEqual([])

    await redis.client().flushall()
    await waitFor(() => mentions(server, LOST, 'warn').length >= 1, { what: 'the data-loss warning' })
  })
})
