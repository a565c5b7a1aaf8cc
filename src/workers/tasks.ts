/**
 * What crosses the thread boundary of the worker pool: the task a caller posts and the
 * verdict of a message validation. Types only, so the transport, storage and relay layers can
 * name them without loading the pool or the worker.
 */

export type WorkerTask =
  | { readonly op: 'merge'; readonly updates: Uint8Array[] }
  /** A merge that also returns the merged doc's state vector (storage/merge.ts LoadedState). */
  | { readonly op: 'load'; readonly updates: Uint8Array[] }
  | { readonly op: 'compact'; readonly updates: Uint8Array[]; readonly gc: boolean }
  | { readonly op: 'validate'; readonly message: Uint8Array }
  /** A first sync from an encoded doc: what a client at `stateVector` lacks, in pieces. */
  | {
      readonly op: 'first-sync'
      readonly state: Uint8Array
      readonly stateVector: Uint8Array
      readonly maxPieceBytes: number
    }

/** What a validation reports back: only the verdict crosses threads, not the decoded parts. */
export type ValidationVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly detail: string }
