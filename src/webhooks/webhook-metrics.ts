/**
 * Metrics of the change webhooks, on the server's registry (names are part of the contract:
 * docs/alerts.yml uses them). Always registered: zeros without WEBHOOK_URL.
 */
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Metrics } from '../observability/metrics.js'

export class WebhookMetrics {
  readonly outboxSize: Gauge
  readonly oldestPendingSeconds: Gauge
  readonly deliveries: Counter<'result'>
  readonly windowsClaimed: Counter
  readonly latency: Histogram
  readonly recordErrors: Counter

  constructor(metrics: Metrics) {
    const registers = [metrics.registry]
    this.outboxSize = new Gauge({
      name: 'yws_webhook_outbox_size',
      help: 'Webhook deliveries this instance owes (pending or retrying), per event and endpoint',
      registers,
    })
    this.oldestPendingSeconds = new Gauge({
      name: 'yws_webhook_oldest_pending_seconds',
      help: 'Age of the oldest undelivered webhook event in the outbox (0 when empty)',
      registers,
    })
    this.deliveries = new Counter({
      name: 'yws_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by result (ok, http-error, timeout, network-error, gave-up, dropped)',
      labelNames: ['result'],
      registers,
    })
    this.windowsClaimed = new Counter({
      name: 'yws_webhook_windows_total',
      help: 'Change windows this instance closed and turned into events (one per doc and window in the cluster)',
      registers,
    })
    this.latency = new Histogram({
      name: 'yws_webhook_delivery_seconds',
      help: 'From the event (window close) to its successful delivery',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 3600, 21600, 86400],
      registers,
    })
    this.recordErrors = new Counter({
      name: 'yws_webhook_record_errors_total',
      help: 'Failed attempts to record changes in or claim windows from Redis (retried next tick)',
      registers,
    })
  }
}
