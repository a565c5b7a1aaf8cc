/**
 * Change webhooks across a cluster and across crashes: in-process instances sharing the real
 * Redis (unique prefix per test), child processes killed with SIGKILL, a real receiver that
 * verifies every signature with the `standardwebhooks` package.
 */
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { spawnServer, startServer, type TestServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { signToken, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'
import { startWebhookReceiver, webhookMetric, webhookSecret } from '../helpers/webhook-receiver.js'

const secret = webhookSecret()
let instances = 0

/**
 * For the tests that spawn servers: each child starts node with tsx, 8-15 s at a load of 20
 * on the 2-core box, so two of them and a restart overran vitest's 30 s although every wait
 * inside is for an event (a delivery, an empty board). The bound is for a hung test only.
 */
const SPAWNING = { timeout: 120_000 }

const editor = async (url: string, doc: string, sub: string) =>
  connectSynced(url, doc, { params: { token: await signToken({ sub, docs: ['*'] }) } })

/** Nothing open or claimed left in Redis for this prefix: no event can still come. */
async function boardEmpty(prefix: string): Promise<boolean> {
  const redis = new Redis(SHARED_REDIS_URL)
  try {
    const [due, claimed] = await Promise.all([
      redis.zcard(`${prefix}:{wh}:due`),
      redis.zcard(`${prefix}:{wh}:claimed`),
    ])
    return due === 0 && claimed === 0
  } finally {
    redis.disconnect()
  }
}

async function outboxesEmpty(servers: readonly TestServer[]): Promise<boolean> {
  const sizes = await Promise.all(servers.map((server) => webhookMetric(server, 'yws_webhook_outbox_size')))
  return sizes.every((size) => size === 0)
}

describe('a two-instance cluster', () => {
  it('editors on both instances: exactly one delivery per doc and window, naming every sub', async () => {
    const prefix = uniquePrefix()
    const receiver = await startWebhookReceiver(secret)
    const servers = await Promise.all(
      [0, 1].map(() =>
        startServer({
          authSecret: TEST_SECRET,
          redisUrl: SHARED_REDIS_URL,
          redisPrefix: prefix,
          instanceId: `wh${instances++}`,
          webhookUrls: [receiver.url],
          webhookSecret: secret,
          webhookDebounceMs: 300,
          webhookMaxWaitMs: 3000,
        }),
      ),
    )
    const docs = ['d0', 'd1', 'd2', 'd3', 'd4']
    const clients = []
    for (const doc of docs) {
      clients.push(
        await editor(servers[0]!.url, doc, `a-${doc}`),
        await editor(servers[1]!.url, doc, `b-${doc}`),
      )
    }
    for (let round = 0; round < 5; round += 1) {
      for (const client of clients) client.text.insert(0, `${round}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    for (let i = 0; i < docs.length; i += 1)
      await waitForConvergence([clients[2 * i]!.doc, clients[2 * i + 1]!.doc])
    await waitFor(() => receiver.deliveries.length >= docs.length, { what: 'one event per doc' })
    await waitFor(async () => (await boardEmpty(prefix)) && (await outboxesEmpty(servers)), {
      what: 'every window delivered',
    })
    expect(receiver.deliveries).toHaveLength(docs.length)
    expect(receiver.deliveries.every((delivery) => delivery.verified)).toBe(true)
    for (const doc of docs) {
      const delivery = receiver.deliveries.find((d) => d.body.data.doc === doc)
      expect(delivery?.body.data.users).toEqual([`a-${doc}`, `b-${doc}`])
    }
    // Both instances took part in claiming, or one did all: either way, five in total.
    const claimed = await Promise.all(
      servers.map((server) => webhookMetric(server, 'yws_webhook_windows_total')),
    )
    expect(claimed[0]! + claimed[1]!).toBe(docs.length)
  })

  it(
    'an instance killed (SIGKILL) mid-window: the survivor delivers its changes, once',
    SPAWNING,
    async () => {
      const prefix = uniquePrefix()
      const receiver = await startWebhookReceiver(secret)
      const env = (id: string) => ({
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_PREFIX: prefix,
        INSTANCE_ID: id,
        AUTH_SECRET: TEST_SECRET,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: secret,
        WEBHOOK_DEBOUNCE_MS: '1500',
        WEBHOOK_MAX_WAIT_MS: '5000',
      })
      // Started together: the two start-ups are most of this test's time.
      const [victim, survivor] = await Promise.all([
        tempDir('yws-wh-victim-').then((dir) => spawnServer({ ...env('victim'), DATA_DIR: dir })),
        tempDir('yws-wh-survivor-').then((dir) => spawnServer({ ...env('survivor'), DATA_DIR: dir })),
      ])
      const alice = await editor(victim.url, 'shared', 'alice')
      const bob = await editor(survivor.url, 'shared', 'bob')
      alice.text.insert(0, 'a')
      bob.text.insert(0, 'b')
      await waitForConvergence([alice.doc, bob.doc])
      // Both changes are recorded in Redis (the window names both users) before the kill.
      const redis = new Redis(SHARED_REDIS_URL)
      const winKey = `${prefix}:{wh}:win:${Buffer.from('shared').toString('base64url')}`
      await waitFor(
        async () =>
          (await redis.hexists(winKey, 'u:alice')) === 1 && (await redis.hexists(winKey, 'u:bob')) === 1,
        {
          what: 'both changes recorded',
        },
      )
      redis.disconnect()
      alice.destroy()
      expect(await victim.kill('SIGKILL')).toBe('SIGKILL')
      await waitFor(() => receiver.deliveries.length === 1, {
        what: 'the survivor’s delivery',
        timeoutMs: 60_000,
      })
      await waitFor(async () => boardEmpty(prefix), { what: 'the board to empty' })
      // The survivor's outbox is empty too: nothing else is on its way.
      await waitFor(
        async () =>
          /^yws_webhook_outbox_size\{[^}]*\} 0$/m.test(
            await (await fetch(`${survivor.httpUrl}/metrics`)).text(),
          ),
        {
          what: 'the survivor’s outbox to empty',
        },
      )
      expect(receiver.deliveries).toHaveLength(1)
      expect(receiver.deliveries[0]!.body.data.users).toEqual(['alice', 'bob'])
      expect(receiver.deliveries[0]!.verified).toBe(true)
    },
  )
})

describe('a crash mid-delivery', () => {
  it('the event is delivered again after the restart, with the same webhook-id', SPAWNING, async () => {
    const receiver = await startWebhookReceiver(secret)
    receiver.answerNext('hang')
    const env = {
      REDIS_URL: '',
      DATA_DIR: await tempDir('yws-wh-crash-'),
      AUTH_SECRET: TEST_SECRET,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: secret,
      WEBHOOK_DEBOUNCE_MS: '200',
      WEBHOOK_TIMEOUT_MS: '60000',
    }
    const first = await spawnServer(env)
    const alice = await editor(first.url, 'crashy', 'alice')
    alice.text.insert(0, 'x')
    await waitFor(() => receiver.deliveries.length === 1, { what: 'the attempt that hangs' })
    alice.destroy()
    expect(await first.kill('SIGKILL')).toBe('SIGKILL')
    await spawnServer(env)
    await waitFor(() => receiver.accepted.length === 1, {
      what: 'the delivery after the restart',
      timeoutMs: 60_000,
    })
    expect(receiver.deliveries).toHaveLength(2)
    expect(receiver.deliveries[1]!.id).toBe(receiver.deliveries[0]!.id)
    expect(receiver.deliveries[1]!.body).toEqual(receiver.deliveries[0]!.body)
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true)
  })
})
