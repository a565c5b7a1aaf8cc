/**
 * Every Prometheus metric the server exports, on a registry of its own (so several servers
 * can live in one process, as in tests). Names are part of the contract: docs/alerts.yml
 * refers to them and a test checks it.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { MessageTally } from './label-tally.js'

export class Metrics {
  readonly registry = new Registry()
  /**
   * Messages received / sent by type: count here on the per-message path (`add(type, bytes)`),
   * never through the four counters below, which take these counts when read.
   */
  readonly received = new MessageTally()
  readonly sent = new MessageTally()

  readonly connections = new Gauge({
    name: 'yws_connections',
    help: 'Open WebSocket connections',
    registers: [this.registry],
  })
  readonly openDocs = new Gauge({
    name: 'yws_open_docs',
    help: 'Documents loaded in memory',
    registers: [this.registry],
  })
  readonly connectionsTotal = new Counter({
    name: 'yws_connections_total',
    help: 'WebSocket connections accepted',
    registers: [this.registry],
  })
  readonly upgradesRejected = new Counter({
    name: 'yws_upgrades_rejected_total',
    help: 'HTTP upgrades refused before a WebSocket existed, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly closes = new Counter({
    name: 'yws_connection_closes_total',
    help: 'Connections closed by the server, by close code name',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly messagesIn: Counter<'type'> = new Counter({
    name: 'yws_messages_received_total',
    help: 'Messages received from clients, by type',
    labelNames: ['type'],
    collect: (): void => this.received.drainInto(this.messagesIn, this.bytesIn, 'type'),
    registers: [this.registry],
  })
  readonly bytesIn: Counter<'type'> = new Counter({
    name: 'yws_bytes_received_total',
    help: 'Bytes received from clients, by message type',
    labelNames: ['type'],
    collect: (): void => this.received.drainInto(this.messagesIn, this.bytesIn, 'type'),
    registers: [this.registry],
  })
  readonly messagesOut: Counter<'type'> = new Counter({
    name: 'yws_messages_sent_total',
    help: 'Messages sent to clients, by type',
    labelNames: ['type'],
    collect: (): void => this.sent.drainInto(this.messagesOut, this.bytesOut, 'type'),
    registers: [this.registry],
  })
  readonly bytesOut: Counter<'type'> = new Counter({
    name: 'yws_bytes_sent_total',
    help: 'Bytes sent to clients, by message type',
    labelNames: ['type'],
    collect: (): void => this.sent.drainInto(this.messagesOut, this.bytesOut, 'type'),
    registers: [this.registry],
  })
  readonly rejectedInputs = new Counter({
    name: 'yws_rejected_inputs_total',
    help: 'Incoming messages rejected or ignored, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly slowClientDrops = new Counter({
    name: 'yws_slow_client_drops_total',
    help: 'Clients closed because their unsent bytes passed MAX_BUFFERED_BYTES',
    registers: [this.registry],
  })
  readonly persistLatency = new Histogram({
    name: 'yws_persist_write_seconds',
    help: 'Duration of one batched LevelDB write',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly persistErrors = new Counter({
    name: 'yws_persist_errors_total',
    help: 'Failed LevelDB writes (retried; nothing is dropped)',
    registers: [this.registry],
  })
  readonly persistedUpdates = new Counter({
    name: 'yws_persisted_updates_total',
    help: 'Updates written to LevelDB',
    registers: [this.registry],
  })
  readonly docLoadSeconds = new Histogram({
    name: 'yws_doc_load_seconds',
    help: 'Time to load a document from storage (and the relay, in a cluster)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly compactions = new Counter({
    name: 'yws_compactions_total',
    help: 'Document log compactions, by result',
    labelNames: ['result'],
    registers: [this.registry],
  })
  readonly compactionSeconds = new Histogram({
    name: 'yws_compaction_seconds',
    help: 'Duration of one document compaction',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  })
  readonly historyCheckpoints = new Counter({
    name: 'yws_history_checkpoints_total',
    help: 'Version checkpoints stored, by reason (scheduled, manual, backup before a restore)',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly historyErrors = new Counter({
    name: 'yws_history_errors_total',
    help: 'Failed scheduled checkpoints (the next change restarts the clock)',
    registers: [this.registry],
  })
  readonly historyRestoreSeconds = new Histogram({
    name: 'yws_history_restore_seconds',
    help: 'Time to restore a version: diff, backup checkpoint, apply',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  })
  readonly docTooLarge = new Counter({
    name: 'yws_doc_size_limit_hits_total',
    help: 'Updates refused because they would grow a document past MAX_DOC_BYTES',
    registers: [this.registry],
  })
  readonly readOnlyUpdatesDropped = new Counter({
    name: 'yws_readonly_updates_dropped_total',
    help: 'Document updates sent by read-only connections (never applied)',
    registers: [this.registry],
  })
  readonly authFailures = new Counter({
    name: 'yws_auth_failures_total',
    help: 'Upgrades refused by authentication or authorization, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly adminRequests = new Counter({
    name: 'yws_admin_requests_total',
    help: 'Requests to /admin/*, by action (or "unknown") and HTTP status',
    labelNames: ['action', 'status'],
    registers: [this.registry],
  })
  readonly revocations = new Counter({
    name: 'yws_revocations_total',
    help: 'Operator revocations applied on this instance, by target kind (doc or sub)',
    labelNames: ['target'],
    registers: [this.registry],
  })
  readonly revokedTokens = new Gauge({
    name: 'yws_revocation_entries',
    help: 'Revocation entries in force on this instance (kept for REVOCATION_TTL_MS)',
    registers: [this.registry],
  })
  readonly relayLag = new Histogram({
    name: 'yws_relay_lag_seconds',
    help: 'Age of a relayed update when another instance applies it (stream id time to now)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers: [this.registry],
  })
  readonly relayPublished = new Counter({
    name: 'yws_relay_published_total',
    help: 'Entries appended to Redis streams, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  })
  readonly relayReceived = new Counter({
    name: 'yws_relay_received_total',
    help: 'Entries read from Redis streams written by other instances, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  })
  readonly relayErrors = new Counter({
    name: 'yws_relay_errors_total',
    help: 'Redis relay errors, by operation',
    labelNames: ['op'],
    registers: [this.registry],
  })
  readonly relayResyncs = new Counter({
    name: 'yws_relay_resyncs_total',
    help: 'Rooms resynced from Redis (gap detected, bad entry, reconnect), by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  })
  readonly relayTimeouts = new Counter({
    name: 'yws_relay_timeouts_total',
    help: 'Redis calls that got no reply within the relay deadline (connection then replaced), by operation',
    labelNames: ['op'],
    registers: [this.registry],
  })
  readonly relayRepublishedDocs = new Counter({
    name: 'yws_relay_republished_docs_total',
    help: 'Stored docs (not open here) whose content this instance re-published after Redis lost its data',
    registers: [this.registry],
  })
  readonly relayRepublishSeconds = new Gauge({
    name: 'yws_relay_last_republish_seconds',
    help: 'Duration of the last re-publication of stored docs after Redis lost its data',
    registers: [this.registry],
  })
  readonly relayConnected = new Gauge({
    name: 'yws_relay_connected',
    help: '1 while Redis is connected and answering in time (always 1 standalone: no relay needed)',
    registers: [this.registry],
  })
  readonly hookErrors = new Counter({
    name: 'yws_hook_errors_total',
    help: 'Library hooks that threw (logged; the server carried on), by hook name',
    labelNames: ['hook'],
    registers: [this.registry],
  })
  readonly ready = new Gauge({
    name: 'yws_ready',
    help: '1 while plain /readyz answers 200 (storage open, not draining, Redis connected when configured)',
    registers: [this.registry],
  })

  constructor(instanceId: string) {
    this.registry.setDefaultLabels({ instance_id: instanceId })
    // Process metrics and event-loop lag (nodejs_eventloop_lag_*), from prom-client itself.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
  }
}
