/**
 * Change webhooks on one instance: real editors (y-websocket providers with JWTs), a real
 * receiver that verifies signatures with the `standardwebhooks` package, real LevelDB.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Config } from '../../src/config/config.js'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { signToken, TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookMetric,
  webhookSecret,
} from '../helpers/webhook-receiver.js'

const secret = webhookSecret()

/**
 * The default WEBHOOK_TIMEOUT_MS (10 s) unless a test is about timeouts: the receiver shares
 * this process and the box, and on a loaded box one of its 200s once took 571 ms to arrive —
 * with a 500 ms timeout that attempt failed and was retried (same webhook-id, at-least-once),
 * and a test counting one delivery saw two.
 */
function webhookConfig(receiver: WebhookReceiver, overrides: Partial<Config> = {}): Partial<Config> {
  return {
    authSecret: TEST_SECRET,
    webhookUrls: [receiver.url],
    webhookSecret: secret,
    webhookDebounceMs: 300,
    webhookMaxWaitMs: 5000,
    webhookRetryMinMs: 100,
    ...overrides,
  }
}

const editor = async (url: string, doc: string, sub: string) =>
  connectSynced(url, doc, { params: { token: await signToken({ sub, docs: ['*'] }) } })

describe('document.changed', () => {
  it('one signed delivery per burst, after the debounce, naming the JWT subs and the state vector', async () => {
    const receiver = await startWebhookReceiver(secret)
    const server = await startServer(webhookConfig(receiver))
    const alice = await editor(server.url, 'notes', 'alice')
    const bob = await editor(server.url, 'notes', 'bob')
    // A reader's edits are never applied, so they never make it a changer.
    const carol = await connectSynced(server.url, 'notes', {
      params: { token: await signToken({ sub: 'carol', mode: 'read' }) },
    })
    carol.text.insert(0, 'ignored')
    for (let i = 0; i < 10; i += 1) {
      alice.text.insert(0, 'a')
      bob.text.insert(0, 'b')
    }
    await waitForConvergence([alice.doc, bob.doc])
    const lastEdit = Date.now()
    await waitFor(() => receiver.deliveries.length === 1, { what: 'the delivery' })
    const [delivery] = receiver.deliveries
    expect(delivery!.verified).toBe(true)
    expect(delivery!.id).toMatch(/^msg_/)
    expect(delivery!.body).toMatchObject({
      type: 'document.changed',
      data: { doc: 'notes', users: ['alice', 'bob'] },
    })
    expect(Number.isNaN(Date.parse(delivery!.body.timestamp))).toBe(false)
    expect(delivery!.body.data.stateVector).toBe(
      Buffer.from(Y.encodeStateVector(alice.doc)).toString('base64'),
    )
    // Not before the window closed (debounce after the last change).
    expect(delivery!.receivedAt - lastEdit).toBeGreaterThanOrEqual(300 - 50)
    // And no second event for the same burst.
    await waitFor(async () => (await webhookMetric(server, 'yws_webhook_outbox_size')) === 0)
    expect(receiver.deliveries).toHaveLength(1)
  })

  it('keeps typing past WEBHOOK_MAX_WAIT_MS: one event per max-wait period, not one per keystroke', async () => {
    const receiver = await startWebhookReceiver(secret)
    const server = await startServer(
      webhookConfig(receiver, { webhookDebounceMs: 400, webhookMaxWaitMs: 800 }),
    )
    const alice = await editor(server.url, 'long', 'alice')
    const started = Date.now()
    // Types every 50 ms (never a 400 ms pause) for 2.2 s: only max wait can close windows.
    while (Date.now() - started < 2200) {
      alice.text.insert(0, 'x')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const typingEnded = Date.now()
    await waitFor(() => receiver.deliveries.length >= 3, { what: 'the last window' })
    // At least two windows closed while the typing went on. Read from each event's timestamp
    // (when its window closed), not from what had arrived when the typing stopped: on a loaded
    // box the delivery itself can lag (1 of 8 runs under CPU pressure saw only one by then).
    const closedWhileTyping = receiver.deliveries.filter((d) => Date.parse(d.body.timestamp) < typingEnded)
    expect(closedWhileTyping.length).toBeGreaterThanOrEqual(2)
    expect(receiver.deliveries.length).toBeLessThanOrEqual(4)
    expect(new Set(receiver.deliveries.map((d) => d.id)).size).toBe(receiver.deliveries.length)
  })

  it('docs are windowed separately; anonymous editors add no users', async () => {
    const receiver = await startWebhookReceiver(secret)
    const server = await startServer(webhookConfig(receiver, { authSecret: undefined }))
    const a = await connectSynced(server.url, 'one')
    const b = await connectSynced(server.url, 'two')
    a.text.insert(0, 'a')
    b.text.insert(0, 'b')
    await waitFor(() => receiver.deliveries.length === 2, { what: 'two deliveries' })
    expect(receiver.deliveries.map((d) => d.body.data.doc).sort()).toEqual(['one', 'two'])
    expect(receiver.deliveries.every((d) => d.body.data.users.length === 0 && d.verified)).toBe(true)
  })
})

describe('retries', () => {
  it('retries non-2xx and timeouts with doubling waits, same webhook-id, until a 2xx', async () => {
    const receiver = await startWebhookReceiver(secret)
    receiver.answerNext(500, 503, 'hang')
    // Long enough that the 500 and the 503 arrive in time on a loaded box (else they would
    // count as timeouts), short enough to keep the test quick.
    const timeoutMs = 2000
    const server = await startServer(webhookConfig(receiver, { webhookTimeoutMs: timeoutMs }))
    const alice = await editor(server.url, 'retry', 'alice')
    alice.text.insert(0, 'x')
    await waitFor(() => receiver.accepted.length === 1, { what: 'the successful retry' })
    const attempts = receiver.deliveries
    expect(attempts.map((d) => d.answer)).toEqual([500, 503, 'hang', 200])
    expect(new Set(attempts.map((d) => d.id)).size).toBe(1)
    expect(attempts.every((d) => d.verified)).toBe(true)
    // Waits 100, 200, then 400 ms: read from the server's own account of each failure (its
    // 'will retry' event), not from arrival times at the receiver, which also carry two
    // requests' transport times (on a loaded box a 900 ms wait arrived as an 887 ms gap).
    const retries = server.logs.filter((line) => line.msg === 'webhook delivery failed; will retry')
    expect(retries.map((line) => [line.attempts, line.retryInMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
    ])
    // Each retry still went out after its failure, in order (no clock arithmetic needed).
    expect(attempts.map((d) => d.answer)).toEqual([500, 503, 'hang', 200])
    // The server counts the 2xx once the answer reached it.
    await waitFor(async () => (await webhookMetric(server, 'yws_webhook_outbox_size')) === 0)
    expect(await webhookMetric(server, 'yws_webhook_deliveries_total', { result: 'http-error' })).toBe(2)
    expect(await webhookMetric(server, 'yws_webhook_deliveries_total', { result: 'timeout' })).toBe(1)
    expect(await webhookMetric(server, 'yws_webhook_deliveries_total', { result: 'ok' })).toBe(1)
  })

  it('a pending delivery survives a restart, and an open window is saved at shutdown', async () => {
    const receiver = await startWebhookReceiver(secret)
    receiver.setFallback(503)
    const dataDir = await tempDir('yws-webhooks-')
    const first = await startServer(webhookConfig(receiver, { dataDir, webhookDebounceMs: 200 }), {
      keepOpen: true,
    })
    const alice = await editor(first.url, 'kept', 'alice')
    alice.text.insert(0, 'x')
    await waitFor(() => receiver.deliveries.length >= 1, { what: 'a failed attempt' })
    expect(await webhookMetric(first, 'yws_webhook_outbox_size')).toBe(1)
    // A second doc changes right before shutdown: its window is still open.
    const bob = await editor(first.url, 'late', 'bob')
    bob.text.insert(0, 'y')
    await waitFor(() => first.app.registry.get('late')?.doc.getText('t').length === 1)
    alice.destroy()
    bob.destroy()
    await first.close()
    const failedId = receiver.deliveries[0]!.id

    receiver.setFallback(200)
    const second = await startServer(webhookConfig(receiver, { dataDir, webhookDebounceMs: 200 }))
    await waitFor(() => receiver.accepted.length === 2, { what: 'both events after the restart' })
    const accepted = receiver.accepted
    expect(accepted.find((d) => d.body.data.doc === 'kept')?.id).toBe(failedId)
    expect(accepted.find((d) => d.body.data.doc === 'late')?.body.data.users).toEqual(['bob'])
    await waitFor(async () => (await webhookMetric(second, 'yws_webhook_outbox_size')) === 0)
  })

  it('a receiver slower than WEBHOOK_TIMEOUT_MS: retried with the same webhook-id, one window', async () => {
    // What a loaded box did to the first test: the receiver took the POST and answered 200,
    // but only after the sender's timeout. The attempt counts as failed (the contract's
    // "timeout"), so the event comes again with the same id: receivers dedupe by it.
    const receiver = await startWebhookReceiver(secret)
    receiver.answerNext('late')
    // The held 200 goes out only after the retry arrived, so the first attempt times out
    // whatever the timeout; 1 s lets the retry's own 200 arrive in time on a loaded box.
    const server = await startServer(webhookConfig(receiver, { webhookTimeoutMs: 1000 }))
    const alice = await editor(server.url, 'slow', 'alice')
    alice.text.insert(0, 'x')
    await waitFor(() => receiver.accepted.length === 1, { what: 'the retry' })
    await waitFor(async () => (await webhookMetric(server, 'yws_webhook_outbox_size')) === 0)
    expect(receiver.deliveries.map((d) => d.answer)).toEqual(['late', 200])
    expect(new Set(receiver.deliveries.map((d) => d.id)).size).toBe(1)
    expect(receiver.deliveries[1]!.body).toEqual(receiver.deliveries[0]!.body)
    expect(await webhookMetric(server, 'yws_webhook_windows_total')).toBe(1)
    expect(await webhookMetric(server, 'yws_webhook_deliveries_total', { result: 'timeout' })).toBe(1)
    expect(await webhookMetric(server, 'yws_webhook_deliveries_total', { result: 'ok' })).toBe(1)
  })
})

describe('document.deleted', () => {
  it('DELETE through the admin API: one event naming "admin", no state vector; the doc’s open window is dropped', async () => {
    const receiver = await startWebhookReceiver(secret)
    const server = await startServer(
      webhookConfig(receiver, {
        adminToken: TEST_ADMIN_TOKEN,
        webhookDebounceMs: 2000,
        webhookMaxWaitMs: 2000,
      }),
    )
    const alice = await editor(server.url, 'gone', 'alice')
    alice.text.insert(0, 'x')
    await waitFor(() => server.app.registry.get('gone')?.doc.getText('t').length === 1)
    const deleted = await httpRequest(server.port, '/admin/docs/gone', {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    })
    expect(deleted.status).toBe(200)
    alice.destroy()
    await waitFor(() => receiver.deliveries.length === 1, { what: 'the delete event' })
    expect(receiver.deliveries[0]!.body).toEqual({
      type: 'document.deleted',
      timestamp: receiver.deliveries[0]!.body.timestamp,
      data: { doc: 'gone', users: ['admin'] },
    })
    expect(receiver.deliveries[0]!.verified).toBe(true)
    // A later edit elsewhere: once its window (same timing) closed, the deleted doc's would
    // have too; it produced no event.
    const other = await editor(server.url, 'other', 'bob')
    other.text.insert(0, 'y')
    await waitFor(() => receiver.deliveries.length === 2, { what: 'the other doc’s event' })
    expect(receiver.deliveries[1]!.body.data.doc).toBe('other')
    expect(await webhookMetric(server, 'yws_webhook_windows_total')).toBe(1)
  })
})
