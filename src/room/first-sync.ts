/**
 * The answer to a client's sync step 1: exactly what it lacks, in pieces of at most
 * FIRST_SYNC_PIECE_BYTES (split-update.ts), so a big doc keeps a slow link busy with messages
 * and never has to fit the send budget at once. The pieces go as updates and the last (the
 * delete set) as the sync step 2: y-websocket marks a provider synced on step 2.
 *
 * From a live Y.Doc the pieces are cut on the event loop. From an encoded doc (doc-holder.ts)
 * a small doc is diffed in place, and a big one is cut on the worker pool, so a big doc
 * nobody edits never costs the event loop its size (cutting 5 MB: 150-320 ms). A doc held in
 * the big-doc worker is cut there, from its Y.Doc (nothing crosses but the pieces).
 */
import * as Y from 'yjs'
import type { Logger } from '../observability/logger.js'
import { encodeSyncStep2, encodeUpdate } from '../protocol/messages.js'
import { type DocHolder, type EncodedDoc, holdsNothing } from './doc-holder.js'
import type { RoomConnection } from './room-connection.js'
import { encodeStateAsUpdatePieces } from './split-update.js'

/**
 * Largest piece of a first sync. A slow link must finish one message well within the stock
 * client's 30 s silence timeout: 256 KiB takes 6.5 s at 40 kB/s.
 */
export const FIRST_SYNC_PIECE_BYTES = 256 * 1024

/** Cuts an encoded doc into first-sync pieces off the event loop (the worker pool). */
export interface FirstSyncCutter {
  firstSyncPieces(state: Uint8Array, stateVector: Uint8Array, maxPieceBytes: number): Promise<Uint8Array[]>
}

/** What answering a step 1 needs from the room. */
export interface FirstSyncSource {
  /** The room's content (live or encoded). */
  readonly content: DocHolder
  readonly cutter: FirstSyncCutter | undefined
  /** Whether `connection` is still served (a cut on the worker pool takes a while). */
  serves(connection: RoomConnection): boolean
  readonly logger: Logger
}

/** Answers a client's sync step 1: from the live doc, or from the encoded one (big: on the pool). */
export function answerSyncStep1(
  source: FirstSyncSource,
  connection: RoomConnection,
  stateVector: Uint8Array,
): void {
  const remote = source.content.remote
  if (remote) {
    sendWhenCut(
      source,
      connection,
      stateVector,
      remote.firstSync(stateVector, FIRST_SYNC_PIECE_BYTES),
      'big-doc worker',
    )
    return
  }
  const encoded = source.content.encodedDoc
  const pieces = encoded ? firstSyncFromEncoded(encoded, stateVector) : undefined
  if (pieces || !encoded || !source.cutter) {
    send(source, connection, pieces ?? firstSyncFromDoc(source.content.doc, stateVector))
    return
  }
  // Whatever changes meanwhile reaches the client as updates: it is in the room already.
  const cut = source.cutter.firstSyncPieces(encoded.update, stateVector, FIRST_SYNC_PIECE_BYTES)
  sendWhenCut(source, connection, stateVector, cut, 'worker pool')
}

/**
 * Sends the pieces cut off the event loop once they arrive, if the client is still here; if
 * the cut failed, logs it and answers from the doc on this thread instead.
 * @param where the thread that cut, for the log line ('big-doc worker', 'worker pool')
 */
function sendWhenCut(
  source: FirstSyncSource,
  connection: RoomConnection,
  stateVector: Uint8Array,
  cut: Promise<readonly Uint8Array[]>,
  where: string,
): void {
  cut.then(
    (pieces) => {
      if (source.serves(connection)) send(source, connection, pieces)
    },
    (error: unknown) => {
      source.logger.warn({ conn: connection.id, err: error }, `first sync on the ${where} failed`)
      if (source.serves(connection))
        send(source, connection, firstSyncFromDoc(source.content.doc, stateVector))
    },
  )
}

function send(source: FirstSyncSource, connection: RoomConnection, pieces: readonly Uint8Array[]): void {
  if (pieces.length > 1)
    source.logger.debug({ conn: connection.id, pieces: pieces.length }, 'first sync in pieces')
  sendFirstSync(connection, pieces)
}

/** The first sync of a client at `stateVector`, from a live doc. */
export function firstSyncFromDoc(doc: Y.Doc, stateVector: Uint8Array): Uint8Array[] {
  return encodeStateAsUpdatePieces(doc, stateVector, FIRST_SYNC_PIECE_BYTES)
}

/**
 * The first sync from an encoded doc: at once when the whole doc fits one piece, else
 * (undefined) it has to be cut, by `cutter` or from a live doc.
 */
export function firstSyncFromEncoded(encoded: EncodedDoc, stateVector: Uint8Array): Uint8Array[] | undefined {
  if (encoded.update.byteLength > FIRST_SYNC_PIECE_BYTES) return undefined
  return [holdsNothing(stateVector) ? encoded.update : Y.diffUpdate(encoded.update, stateVector)]
}

/** Sends first-sync pieces: updates, then the last as the sync step 2. */
export function sendFirstSync(connection: RoomConnection, pieces: readonly Uint8Array[]): void {
  const messages = firstSyncMessages(pieces)
  if (connection.sendPaced) connection.sendPaced(messages, 'sync-step2')
  else for (const message of messages) connection.send(message, 'sync-step2')
}

/**
 * Each piece framed when its turn comes, and let go once framed. Why: framing copies the
 * piece, so framing all at once held the doc twice until both were sent (26 MB of pieces plus
 * 26 MB of messages for a 26 MB doc); now one piece at a time is held twice. An iterator over
 * a closure, not a generator: a suspended generator keeps its arguments, so `pieces` (every
 * piece) stayed reachable until the last was sent; the closure captures only `left`.
 */
function firstSyncMessages(pieces: readonly Uint8Array[]): IterableIterator<Uint8Array> {
  const left: (Uint8Array | undefined)[] = [...pieces]
  let index = 0
  return {
    [Symbol.iterator]() {
      return this
    },
    next(): IteratorResult<Uint8Array> {
      if (index >= left.length) return { done: true, value: undefined }
      const piece = left[index]!
      left[index] = undefined
      index += 1
      return { done: false, value: index === left.length ? encodeSyncStep2(piece) : encodeUpdate(piece) }
    },
  }
}
