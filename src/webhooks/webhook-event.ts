/**
 * What a change webhook says, and the shapes that carry a closed window from where it was
 * collected (one instance, or Redis for the cluster) to the outbox. Pure: no I/O.
 *
 * Body (INTERFACE.md "Change webhooks"):
 *   { "type": "document.changed", "timestamp": ISO-8601, "data": { "doc", "users", "stateVector" } }
 *   { "type": "document.deleted", "timestamp": ISO-8601, "data": { "doc", "users" } }
 */
import * as Y from 'yjs'

export type WebhookEventType = 'document.changed' | 'document.deleted'

export interface WebhookBody {
  readonly type: WebhookEventType
  /** When the event happened: the window closed, or the doc was deleted. */
  readonly timestamp: string
  readonly data: {
    readonly doc: string
    /** JWT subs that changed the doc in the window (sorted), or who deleted it. */
    readonly users: readonly string[]
    /** base64 Yjs state vector; absent for document.deleted. */
    readonly stateVector?: string
  }
}

/** A window that closed and was claimed by this instance, ready to become deliveries. */
export interface ClosedWindow {
  /** The delivery's `webhook-id`, fixed when the window opened: stable across takeovers. */
  readonly id: string
  readonly doc: string
  /** Unix ms of the window's first and last recorded change, and when it was claimed. */
  readonly firstChangeAt: number
  readonly lastChangeAt: number
  readonly closedAt: number
  readonly users: readonly string[]
  /** State vectors (base64) reported by each instance that recorded changes; merged on use. */
  readonly stateVectors: readonly string[]
}

export function changedBody(window: ClosedWindow): WebhookBody {
  return {
    type: 'document.changed',
    timestamp: new Date(window.closedAt).toISOString(),
    data: {
      doc: window.doc,
      users: [...window.users].sort(),
      stateVector: Buffer.from(mergeStateVectors(window.stateVectors)).toString('base64'),
    },
  }
}

export function deletedBody(doc: string, user: string, at: number): WebhookBody {
  return { type: 'document.deleted', timestamp: new Date(at).toISOString(), data: { doc, users: [user] } }
}

/**
 * The union of several instances' views of one doc: per client, the highest clock any of
 * them has. Each instance reports what it holds, so the union is what the cluster holds.
 * A malformed entry (not base64 of a state vector) is skipped: it can only come from a
 * corrupted Redis value, and one bad view must not block the event.
 */
export function mergeStateVectors(encoded: readonly string[]): Uint8Array {
  const merged = new Map<number, number>()
  for (const entry of encoded) {
    let vector: Map<number, number>
    try {
      vector = Y.decodeStateVector(Buffer.from(entry, 'base64'))
    } catch {
      continue // see above: a corrupted view is dropped, the others still count
    }
    for (const [client, clock] of vector) merged.set(client, Math.max(clock, merged.get(client) ?? 0))
  }
  return Y.encodeStateVector(merged)
}
