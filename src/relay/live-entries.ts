/**
 * Hands a room the live entries of its doc's stream (a follower's reply): decodes each,
 * skips this instance's own (already applied), validates the payload with the protocol
 * codecs (entries are peer data), and applies it to the room. A bad entry is skipped and
 * reported; it never stops the entries after it.
 *
 *   u  a Yjs update        -> sink.applyRemoteUpdate
 *   a  an awareness update -> sink.applyRemoteAwareness
 *   q  "who is here?"      -> answered with the room's local awareness (`answer`)
 *   c  control             -> bad here (control entries live on the control stream)
 *
 * An update written under an older deletion generation than the room's is skipped: it was
 * sent before a delete of the doc and landed after it (stream-entry.ts `isStaleUpdate`).
 */
import type { Metrics } from '../observability/metrics.js'
import { decodeAwareness, validateUpdate } from '../protocol/messages.js'
import type { InstanceIdentity } from './instance-identity.js'
import type { RawEntry } from './redis-doc-state.js'
import type { RelaySink } from './relay.js'
import { decodeEntry, type EntryKind, idTimeMs, isNewerUpdate, isStaleUpdate } from './stream-entry.js'

export interface LiveEntryTarget {
  readonly sink: RelaySink
  readonly identity: InstanceIdentity
  readonly metrics: Metrics
  /** Publishes the room's answer to an awareness query. */
  answer(awareness: Uint8Array): void
  /** Reports an entry that could not be used (counted and logged by the caller). */
  bad(id: string, reason: string): void
  /** The doc's deletion generation the room joined under (undefined: not known). */
  generation(): number | undefined
  /**
   * An update entry was written under a newer generation than the room's: the doc was deleted
   * since the room joined and the control message did not reach it (the deleting instance
   * died, or Redis was away). The entry is not applied; the room resyncs, which finds the delete.
   */
  deletedSince(): void
}

/** Applies a reply's entries in order; true when some entry was bad (the room resyncs). */
export function applyLiveEntries(
  entries: readonly RawEntry[],
  target: LiveEntryTarget,
  now: number,
): boolean {
  let bad = false
  for (const [idBuffer, fields] of entries) {
    const id = idBuffer.toString()
    const decoded = decodeEntry(fields)
    let problem: string | undefined
    if (!decoded.ok) problem = decoded.reason
    else if (target.identity.isOwn(decoded.entry))
      continue // our own (by nonce, not INSTANCE_ID): already applied
    else if (isStaleUpdate(decoded.entry, target.generation()))
      continue // written before a delete of the doc, landed after it: deleted content
    else if (isNewerUpdate(decoded.entry, target.generation())) {
      target.deletedSince()
      continue
    } else {
      const { kind, data } = decoded.entry
      target.metrics.relayReceived.inc({ kind })
      target.metrics.relayLag.observe(Math.max(0, now - idTimeMs(id)) / 1000)
      try {
        problem = applyEntry(target, kind, data)
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error)
      }
    }
    if (problem !== undefined) {
      target.bad(id, problem)
      bad = true
    }
  }
  return bad
}

/** Why the entry could not be applied, or undefined. */
function applyEntry(target: LiveEntryTarget, kind: EntryKind, data: Uint8Array): string | undefined {
  switch (kind) {
    case 'u': {
      const problem = validateUpdate(data)
      if (problem === undefined) target.sink.applyRemoteUpdate(data)
      return problem
    }
    case 'a': {
      const decoded = decodeAwareness(data)
      if (!decoded.ok) return decoded.detail
      target.sink.applyRemoteAwareness(data)
      return undefined
    }
    case 'q': {
      // The clients' states go out with their own clocks: the new room holds none and applies
      // them, peers that hold them ignore the equal clock (docs/architecture.md, "Relay").
      const local = target.sink.encodeLocalAwareness?.()
      if (local) target.answer(local)
      return undefined
    }
    case 'c':
      return 'control entry in a doc stream'
  }
}
