/**
 * A standalone server never loads the Redis client (issue 16, idle memory: ioredis is ~1.1 MB
 * of retained heap and 3-4 MB of RSS in every process); a server with REDIS_URL loads it when
 * it builds its relay. Real child processes, since a vitest worker shares its module cache.
 */
import { describe, expect, it } from 'vitest'
import { freePort, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { runCli } from '../helpers/run-cli.js'
import { tempDir } from '../helpers/temp-dir.js'

const CHILD = '../test/helpers/redis-client-loaded-child.ts'

async function ioredisLoaded(env: Record<string, string>): Promise<boolean> {
  const result = await runCli(CHILD, [], {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    LOG_LEVEL: 'error',
    DATA_DIR: await tempDir(),
    ...env,
  })
  expect(result.code, result.stderr).toBe(0)
  return (JSON.parse(result.stdout.trim()) as { loaded: boolean }).loaded
}

describe('loading the Redis client', () => {
  it('does not happen in a standalone server', async () => {
    expect(await ioredisLoaded({})).toBe(false)
  }, 60_000)

  it('happens when REDIS_URL asks for the relay', async () => {
    expect(await ioredisLoaded({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: uniquePrefix() })).toBe(true)
  }, 60_000)
})
