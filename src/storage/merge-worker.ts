/**
 * Worker-thread entry for the merge pool: CPU-heavy merges and compactions of big docs, and
 * the validation of big client messages, run here so one large document cannot stall the
 * rooms on the main event loop.
 */
import { decodeClientMessage } from '../protocol/messages.js'
import { type CompactedDoc, compactUpdates, loadStoredUpdates } from './merge.js'

export type MergeTask =
  | { readonly op: 'merge'; readonly updates: Uint8Array[] }
  | { readonly op: 'compact'; readonly updates: Uint8Array[]; readonly gc: boolean }
  | { readonly op: 'validate'; readonly message: Uint8Array }

/** What a validation reports back: only the verdict crosses threads, not the decoded parts. */
export type ValidationVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly detail: string }

export default function run(task: MergeTask): Uint8Array | CompactedDoc | ValidationVerdict {
  switch (task.op) {
    case 'merge':
      return loadStoredUpdates(task.updates)
    case 'compact':
      return compactUpdates(task.updates, task.gc)
    case 'validate': {
      const result = decodeClientMessage(task.message)
      return result.ok ? { ok: true } : { ok: false, reason: result.reason, detail: result.detail }
    }
  }
}
