/**
 * A webhook endpoint for tests: a real HTTP server on a free port that verifies every
 * delivery with the `standardwebhooks` package (as a receiver would), records it, and answers
 * as the test says — 2xx, an error status, never (to force a timeout), or 200 too late (after
 * the sender gave up and its retry arrived: a receiver slower than WEBHOOK_TIMEOUT_MS).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { onTestFinished } from 'vitest'
import { metricValue } from './prometheus.js'
import type { TestServer } from './server.js'

/** A fresh signing secret in the Standard Webhooks format. */
export function webhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export interface Delivery {
  readonly id: string
  readonly body: {
    type: string
    timestamp: string
    data: { doc: string; users: string[]; stateVector?: string }
  }
  /** Whether Webhook.verify accepted the signature (and timestamp). */
  readonly verified: boolean
  /** What we answered: a status, 'hang' (no answer), or 'late' (200 once the next request came). */
  readonly answer: Answer
  readonly receivedAt: number
}

export type Answer = number | 'hang' | 'late'

export interface WebhookReceiver {
  readonly url: string
  readonly deliveries: readonly Delivery[]
  /** Deliveries we answered 2xx, i.e. that the server counts as delivered. */
  readonly accepted: readonly Delivery[]
  /** Answers for the next requests, in order; afterwards `fallback` (200 by default). */
  answerNext(...answers: Answer[]): void
  setFallback(answer: Answer): void
  close(): Promise<void>
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret)
  const deliveries: Delivery[] = []
  const queue: Answer[] = []
  const hanging = new Set<ServerResponse>()
  const late = new Set<ServerResponse>()
  let fallback: Answer = 200
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      }
      let verified = true
      try {
        verifier.verify(raw, headers)
      } catch {
        verified = false // recorded: the test asserts on it
      }
      // A late answer goes out only now, after the next request (the retry) arrived.
      for (const held of late) held.writeHead(200).end()
      late.clear()
      const answer = queue.shift() ?? fallback
      deliveries.push({
        id: headers['webhook-id'],
        body: JSON.parse(raw),
        verified,
        answer,
        receivedAt: Date.now(),
      })
      if (answer === 'hang') {
        hanging.add(response)
        return
      }
      if (answer === 'late') {
        late.add(response)
        return
      }
      response.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const response of [...hanging, ...late]) response.destroy()
      server.closeAllConnections()
      server.close(() => resolve())
    })
    return closed
  }
  onTestFinished(close)
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    get accepted() {
      return deliveries.filter((delivery) => typeof delivery.answer === 'number' && delivery.answer < 300)
    },
    answerNext: (...answers) => queue.push(...answers),
    setFallback: (answer) => {
      fallback = answer
    },
    close,
  }
}

/** A webhook metric of an in-process test server (summed over samples matching `labels`). */
export async function webhookMetric(
  server: TestServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = server.app.metrics.registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  return metricValue(metric as Parameters<typeof metricValue>[0], labels)
}
