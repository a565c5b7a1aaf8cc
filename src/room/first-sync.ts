/**
 * The answer to a client's sync step 1: exactly what it lacks, in pieces of at most
 * FIRST_SYNC_PIECE_BYTES (split-update.ts), so a big doc keeps a slow link busy with messages
 * and never has to fit the send budget at once. The pieces go as updates and the last (the
 * delete set) as the sync step 2: y-websocket marks a provider synced on step 2.
 */
import type * as Y from 'yjs'
import { encodeSyncStep2, encodeUpdate } from '../protocol/messages.js'
import type { RoomConnection } from './room-connection.js'
import { encodeStateAsUpdatePieces } from './split-update.js'

/**
 * Largest piece of a first sync. A slow link must finish one message well within the stock
 * client's 30 s silence timeout: 256 KiB takes 6.5 s at 40 kB/s.
 */
export const FIRST_SYNC_PIECE_BYTES = 256 * 1024

/** Encodes the first sync for a client at `stateVector`; returns how many pieces it took. */
export function sendFirstSync(doc: Y.Doc, connection: RoomConnection, stateVector: Uint8Array): number {
  const pieces = encodeStateAsUpdatePieces(doc, stateVector, FIRST_SYNC_PIECE_BYTES)
  const messages = pieces.map((piece, index) =>
    index === pieces.length - 1 ? encodeSyncStep2(piece) : encodeUpdate(piece),
  )
  if (connection.sendPaced) connection.sendPaced(messages, 'sync-step2')
  else for (const message of messages) connection.send(message, 'sync-step2')
  return pieces.length
}
