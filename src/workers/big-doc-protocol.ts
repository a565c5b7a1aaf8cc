/**
 * What crosses the thread boundary of the big-doc host (big-doc-host.ts <-> big-doc-worker.ts).
 * Types only. Every request is answered in the order the worker received it (one thread, one
 * port, handled synchronously), which the host relies on: a reply also means every request
 * posted before it was handled.
 */
import type { ValidationVerdict } from './tasks.js'

/** A request from the host. `close` is not answered. */
export type BigDocRequest =
  /** Builds the doc `key` from these updates (its state, then any accepted since): its state vector. */
  | {
      readonly op: 'open'
      readonly id: number
      readonly key: string
      readonly updates: readonly Uint8Array[]
      /**
       * The updates' buffers were transferred, not copied: answer a LentReply, whose copies
       * (made here, off the event loop) replace what the host gave away.
       */
      readonly lent?: boolean
    }
  | { readonly op: 'close'; readonly key: string }
  /**
   * Applies one validated update; see ApplyReply. `lent`: the update's buffer (holding only
   * the message it came in) was transferred, not copied: the worker applies a copy of its
   * own and hands the buffer back in `ApplyReply.returned`.
   */
  | {
      readonly op: 'apply'
      readonly id: number
      readonly key: string
      readonly update: Uint8Array
      readonly lent?: boolean
    }
  /**
   * Validates one client message (protocol/messages.ts `decodeClientMessage`) whose buffer
   * was transferred: answers a ValidateReply, with the buffer handed back.
   */
  | { readonly op: 'validate'; readonly id: number; readonly message: Uint8Array }
  /** What a client at `stateVector` lacks, in pieces of at most `maxPieceBytes` (split-update.ts). */
  | {
      readonly op: 'first-sync'
      readonly id: number
      readonly key: string
      readonly stateVector: Uint8Array
      readonly maxPieceBytes: number
    }
  /** The whole doc encoded (pending structs included) and its state vector. */
  | { readonly op: 'snapshot'; readonly id: number; readonly key: string }

/** Whether an update told the doc anything, and what Yjs made of it. */
export interface ApplyReply {
  /** It changed the doc or its pending structs/deletes (else: a duplicate, nothing to fan out). */
  readonly told: boolean
  /**
   * Set when Yjs threw part way: what it had integrated before (one update, whole delete set).
   * That part is in the worker's doc and must be fanned out; the rest of the update is not.
   */
  readonly integrated?: Uint8Array | undefined
  /** Set when Yjs threw: the update is refused (`integrated` aside). */
  readonly error?: string | undefined
  /** The doc's state vector after it. */
  readonly stateVector: Uint8Array
  /** A lent apply's update, handed back (the same bytes, the host's again). */
  readonly returned?: Uint8Array | undefined
}

/** The answer to a `validate`: the verdict and the message, handed back. */
export interface ValidateReply {
  readonly verdict: ValidationVerdict
  readonly message: Uint8Array
}

/** The answer to an `open` with `lent`: the state vector and a copy of each update, in order. */
export interface LentReply {
  readonly stateVector: Uint8Array
  readonly updates: readonly Uint8Array[]
}

export interface SnapshotReply {
  readonly update: Uint8Array
  readonly stateVector: Uint8Array
}

/** A reply to request `id`: its value, or why the worker could not answer. */
export type BigDocReply =
  | {
      readonly id: number
      readonly ok: true
      readonly value: ApplyReply | SnapshotReply | LentReply | ValidateReply | Uint8Array[] | Uint8Array
    }
  | { readonly id: number; readonly ok: false; readonly error: string }
