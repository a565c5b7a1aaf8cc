/**
 * What an operator can do to this instance and, through the relay's control channel, to the
 * cluster: revoke access, evict a doc, compact in bulk, flush, drain; and the health the
 * public routes report. The admin route table (http/admin-table.ts) calls these as its
 * `AdminActions`; the relay delivers other instances' revokes, evicts and deletes here.
 *
 * Revoke and evict act on every instance: the action is broadcast first, then done locally,
 * so an instance never waits for the others (the control channel is fire-and-forget; an
 * instance that misses it is one that was not connected, and it holds no connections).
 */
import type { DocumentService } from '../document/document-service.js'
import type { AdminActions } from '../http/admin-routes.js'
import type { HealthSource } from '../http/http-routes.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { ControlMessage, Relay } from '../relay/relay.js'
import type { RoomRegistry } from '../room/room-registry.js'
import type { CompactionResult, DocStore } from '../storage/doc-store.js'
import type { RevocationList, RevocationTarget } from '../transport/revocation-list.js'
import type { WsGateway } from '../transport/ws-gateway.js'

export interface OperatorParts {
  readonly registry: RoomRegistry
  readonly store: DocStore & { readonly isOpen: boolean }
  readonly relay: Relay
  readonly gateway: Pick<WsGateway, 'closeWhere'>
  readonly documents: Pick<DocumentService, 'deletedElsewhere'>
  readonly revocations: RevocationList
  readonly metrics: Metrics
  readonly logger: Logger
  /** What a drain does once `draining` is set (the standalone process exits through it). */
  readonly onDrain: () => void
}

export class InstanceOperator implements AdminActions {
  /** Set by a drain or by close(): /readyz answers 503 from then on. */
  draining = false

  readonly health: HealthSource = {
    isReady: () => this.parts.store.isOpen && !this.draining,
    relayConnected: () => this.parts.relay.connected,
    readinessDetail: () => ({
      storage: this.parts.store.isOpen,
      relay: this.parts.relay.connected,
      draining: this.draining,
    }),
  }

  constructor(private readonly parts: OperatorParts) {
    // Standalone needs no relay; the Redis relay keeps this gauge current itself.
    if (parts.relay.mode === 'standalone') parts.metrics.relayConnected.set(1)
  }

  /** Acts on what other instances broadcast (revoke, evict, delete) and on docs deleted elsewhere. */
  followCluster(): void {
    const { relay, logger, documents } = this.parts
    const deletedElsewhere = (doc: string, generation: number) =>
      documents
        .deletedElsewhere(doc, generation)
        .catch((error: unknown) => logger.error({ doc, err: error }, 'cluster delete failed'))
    relay.onControl((message: ControlMessage) => {
      switch (message.type) {
        case 'revoke':
          this.revokeLocally(message)
          return
        case 'evict':
          this.evictLocally(message.doc).catch((error: unknown) =>
            logger.error({ doc: message.doc, err: error }, 'cluster evict failed'),
          )
          return
        case 'delete':
          void deletedElsewhere(message.doc, message.generation)
          return
      }
    })
    relay.onDocDeleted((docName, generation) => void deletedElsewhere(docName, generation))
  }

  /**
   * Revokes on this instance only: refuses tokens for the doc/sub issued until now and
   * closes matching connections with 4003. Returns how many were closed.
   */
  revokeLocally({ doc, sub }: RevocationTarget): number {
    const { revocations, metrics, gateway, logger } = this.parts
    revocations.revoke({ doc, sub })
    metrics.revocations.inc({ target: doc !== undefined ? 'doc' : 'sub' })
    metrics.revokedTokens.set(revocations.size)
    const closed = gateway.closeWhere(
      'accessRevoked',
      (connection) =>
        (doc !== undefined && connection.room.docName === doc) ||
        (sub !== undefined && connection.subject === sub),
    )
    logger.info({ doc, sub, closed }, 'access revoked')
    return closed
  }

  /** Closes the doc's connections here (1000) and unloads it. Returns how many were closed. */
  async evictLocally(doc: string): Promise<number> {
    const close = () =>
      this.parts.gateway.closeWhere('normal', (connection) => connection.room.docName === doc)
    const closed = close()
    // The unload waits for a load in flight; connections that waited for it joined meanwhile
    // and would otherwise stay on the destroyed room.
    await this.parts.registry.unload(doc)
    return closed + close()
  }

  openDocs(): { doc: string; connections: number }[] {
    return [...this.parts.registry.rooms()].map((room) => ({
      doc: room.docName,
      connections: room.connectionCount,
    }))
  }

  storedDocs(listing: { prefix?: string; after?: string }) {
    return this.parts.store.listDocs(listing)
  }

  flush(): Promise<void> {
    return this.parts.store.flush()
  }

  /**
   * One doc, or every doc under a prefix, one at a time. The names are listed first: a
   * compaction rewrites keys, and an iterator open across that would pin what it deletes.
   */
  async compact({
    doc,
    prefix,
    gc,
    dryRun,
  }: {
    doc?: string
    prefix?: string
    gc: boolean
    dryRun: boolean
  }): Promise<CompactionResult[]> {
    const { store } = this.parts
    if (doc !== undefined) return [await store.compact(doc, { gc, dryRun })]
    const names: string[] = []
    for await (const stats of store.listDocs(prefix !== undefined ? { prefix } : {}))
      names.push(stats.docName)
    const results: CompactionResult[] = []
    for (const name of names) results.push(await store.compact(name, { gc, dryRun }))
    return results
  }

  async evict(doc: string): Promise<number> {
    this.parts.relay.broadcastControl({ type: 'evict', doc })
    return this.evictLocally(doc)
  }

  async revoke(target: { doc?: string; sub?: string }): Promise<number> {
    this.parts.relay.broadcastControl({ type: 'revoke', ...target })
    return this.revokeLocally(target)
  }

  drain(): void {
    this.draining = true
    this.parts.logger.info('drain requested by admin')
    this.parts.onDrain()
  }
}
