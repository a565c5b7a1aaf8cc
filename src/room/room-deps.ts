/**
 * What a Room is given (its dependencies) and what it reports (one accepted change, as the
 * change hooks see it).
 */
import type { ChangeOrigin } from '../hooks.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { DocStore } from '../storage/doc-store.js'
import type { BigDocHosting } from './big-doc-session.js'
import type { FirstSyncCutter } from './first-sync.js'
import type { Room } from './room.js'

export interface RoomDeps {
  readonly store: DocStore
  readonly metrics: Metrics
  readonly logger: Logger
  readonly maxDocBytes: number
  /**
   * The worker pool: cuts a big encoded doc's first sync off the event loop, and its
   * `bigDocs` thread holds big docs (room.ts goesOffLoop). Without it, everything happens
   * here on a live Y.Doc.
   */
  readonly workers?: (FirstSyncCutter & { readonly bigDocs: BigDocHosting }) | undefined
  /**
   * Told about every change the room fans out, with the update as received. A returned
   * promise is the change's hooks; the room chains them so they run one at a time in the
   * order the doc accepted the changes, and hands a client's to its connection (which
   * waits for it before its next message).
   */
  readonly onChange?: ((change: RoomChange) => Promise<void> | undefined) | undefined
}

/** One change the room accepted, as the change hooks see it. */
export interface RoomChange {
  readonly room: Room
  readonly update: Uint8Array
  readonly origin: ChangeOrigin
}
