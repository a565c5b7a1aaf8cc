/**
 * Worker-thread entry of the worker pool: CPU-heavy merges and compactions of big docs, and
 * the validation of big client messages, run here so one large document cannot stall the
 * rooms on the main event loop. Pure functions only: nothing here does I/O.
 */
import { decodeClientMessage } from '../protocol/messages.js'
import { encodedFirstSyncPieces } from '../room/split-update.js'
import {
  type CompactedDoc,
  compactUpdates,
  type LoadedState,
  loadStoredState,
  loadStoredUpdates,
} from '../storage/merge.js'
import type { ValidationVerdict, WorkerTask } from './tasks.js'

export default function run(
  task: WorkerTask,
): Uint8Array | Uint8Array[] | CompactedDoc | LoadedState | ValidationVerdict {
  switch (task.op) {
    case 'merge':
      return loadStoredUpdates(task.updates)
    case 'load':
      return loadStoredState(task.updates)
    case 'compact':
      return compactUpdates(task.updates, task.gc)
    case 'validate': {
      const result = decodeClientMessage(task.message)
      return result.ok ? { ok: true } : { ok: false, reason: result.reason, detail: result.detail }
    }
    case 'first-sync':
      return encodedFirstSyncPieces(task.state, task.stateVector, task.maxPieceBytes)
  }
}
