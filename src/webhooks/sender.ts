/**
 * One delivery attempt: the body POSTed to an endpoint, signed per the Standard Webhooks spec
 * by the `standardwebhooks` package (headers webhook-id, webhook-timestamp, webhook-signature:
 * `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes). Any 2xx is
 * success; anything else, a timeout or a network error is a failure to retry.
 */
import { Webhook } from 'standardwebhooks'

export type AttemptResult = 'ok' | 'http-error' | 'timeout' | 'network-error'

export interface Attempt {
  readonly result: AttemptResult
  /** HTTP status when the endpoint answered. */
  readonly status?: number
  readonly error?: string
}

export class WebhookSender {
  private readonly signer: Webhook

  /** `secret`: `whsec_<base64>` (validated by config). */
  constructor(
    secret: string,
    private readonly timeoutMs: number,
  ) {
    this.signer = new Webhook(secret)
  }

  async send(url: string, id: string, body: string, now = new Date()): Promise<Attempt> {
    const signature = this.signer.sign(id, now, body)
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        // A redirect could point a signed event anywhere; the endpoint must be the real one.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'yjs-cluster-server-webhooks',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
      })
    } catch (error) {
      const name = (error as { name?: string }).name
      if (name === 'TimeoutError' || name === 'AbortError') return { result: 'timeout' }
      const cause = (error as { cause?: { code?: string } }).cause?.code
      return {
        result: 'network-error',
        error: cause ?? (error instanceof Error ? error.message : String(error)),
      }
    }
    // The answer's body means nothing to us; release the connection without reading it.
    await response.body?.cancel().catch(() => undefined)
    if (response.status >= 200 && response.status < 300) return { result: 'ok', status: response.status }
    return { result: 'http-error', status: response.status }
  }
}
