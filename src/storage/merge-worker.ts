/**
 * Worker-thread entry for the merge pool: CPU-heavy merges and compactions of big docs run
 * here so one large document cannot stall the rooms on the main event loop.
 */
import { type CompactedDoc, compactUpdates, loadStoredUpdates } from './merge.js'

export type MergeTask =
  | { readonly op: 'merge'; readonly updates: Uint8Array[] }
  | { readonly op: 'compact'; readonly updates: Uint8Array[]; readonly gc: boolean }

export default function run(task: MergeTask): Uint8Array | CompactedDoc {
  return task.op === 'merge' ? loadStoredUpdates(task.updates) : compactUpdates(task.updates, task.gc)
}
