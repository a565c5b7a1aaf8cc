/**
 * Who may speak for an awareness client id, decided per entry of a client's awareness
 * message. Pure: the room supplies what it knows about the id and acts on the verdict.
 *
 * Facts about stock clients (y-websocket + y-protocols) this rests on:
 * - Every client re-broadcasts every awareness change it applies, so each state a client
 *   publishes comes back from every other client as an echo, with the same (or an older)
 *   clock. Echoes are normal traffic: never claims, never counted as attacks.
 * - A state is only applied with a newer clock (or an equal clock when it is a removal).
 *   A client that reconnects announces its state with its unchanged clock, which everyone
 *   who saw its removal already holds: a plain apply would ignore it until its 15 s renewal.
 * - A client that receives its *own* id with state null and its current clock keeps its
 *   state, bumps its clock and re-broadcasts ("I still exist"). A non-owner that receives
 *   such a removal drops the id, which it no longer has anyway. That reply is the
 *   "re-announce" verdict: it makes a returning client newer than anything anyone holds,
 *   and it is harmless when the sender was only echoing.
 *
 * Ownership is given only by a state that actually applies (see RoomAwareness.trackOwners),
 * never by merely naming an id.
 */
import type { AwarenessEntry } from '../protocol/messages.js'

/** What the room knows about one awareness client id when a message mentions it. */
export interface AwarenessIdStatus {
  /** Subject of the live local connection whose applied state holds the id, if any. */
  readonly owner: { readonly subject: string | undefined; readonly isSender: boolean } | undefined
  /** The clock the room holds for the id; undefined when the id was never seen here. */
  readonly clock: number | undefined
  /** Whether the room currently holds a (non-null) state for the id. */
  readonly held: boolean
}

/**
 * - `apply`: hand the entry to the awareness protocol (which still drops stale clocks).
 * - `apply-and-reannounce`: apply, and ask the sender to re-announce with a newer clock
 *   (the id is new to this room, e.g. after a restart: others may hold its clock already).
 * - `reannounce`: do not apply; ask the sender to re-announce (a returning client whose
 *   clock others already hold). Harmless if the sender was only echoing.
 * - `ignore`: an echo or a stale message; nothing to do and nothing wrong.
 * - `spoof`: an attempt to move a state that another live connection of another user owns.
 */
export type AwarenessVerdict = 'apply' | 'apply-and-reannounce' | 'reannounce' | 'ignore' | 'spoof'

/**
 * Decides what to do with one entry of an awareness message from `sender`.
 * `sender.subject` is the authenticated `sub` (undefined without auth or without `sub`).
 */
export function judgeAwarenessEntry(
  entry: AwarenessEntry,
  sender: { readonly subject?: string | undefined },
  status: AwarenessIdStatus,
): AwarenessVerdict {
  const { owner, clock, held } = status
  if (owner?.isSender) return 'apply'
  const newer = clock === undefined || entry.clock > clock
  if (owner) {
    // Another live connection here owns the id. Same or older clock: an echo of what we
    // sent. Newer: the same authenticated user on a new connection (the old one is
    // half-open) takes over; anyone else is trying to move someone else's state.
    if (!newer) return 'ignore'
    return sender.subject !== undefined && sender.subject === owner.subject ? 'apply' : 'spoof'
  }
  if (clock === undefined) return entry.state === null ? 'ignore' : 'apply-and-reannounce'
  if (newer) return 'apply'
  // Not newer, and nobody here owns it. Held: it came through the relay and is visible
  // already (an echo, or its owner re-announcing an unchanged state). Not held: its owner
  // left and this is either that client back with its unchanged clock, or a late echo.
  if (held || entry.state === null) return 'ignore'
  return 'reannounce'
}
