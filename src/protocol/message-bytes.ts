/**
 * Facts about where a received message's bytes live, so that the big bytes of a big push are
 * handed around (to a worker thread and back, to every recipient) instead of copied: on this
 * VM each copy of a fresh MiB on the event loop costs up to ~5 ms (docs/architecture.md, "Event-loop
 * copies of a 50 MB doc"). Pure functions over bytes; no I/O.
 */
import { MessageType, SyncType } from './messages.js'

/**
 * Whether `bytes` is the whole of its buffer (a received message in a buffer of its own), so
 * that handing the buffer to another thread takes nothing from anyone else.
 */
export function ownsBuffer(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
}

/** Longest header before an update in a sync message: two type bytes and a varuint length. */
export const MAX_UPDATE_HEADER_BYTES = 2 + 8

/** Bytes of `length` as a minimal varuint (lib0's encoding). */
function varUintBytes(length: number): number {
  let bytes = 1
  for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 128)) bytes += 1
  return bytes
}

/**
 * Whether `update`'s buffer holds only the message it came in: at most a sync header before
 * it and nothing after it (see `ownsBuffer`; the update of a decoded whole-buffer message).
 */
export function ownsUpdateBuffer(update: Uint8Array): boolean {
  const buffer = update.buffer
  return (
    buffer instanceof ArrayBuffer &&
    update.byteOffset <= MAX_UPDATE_HEADER_BYTES &&
    update.byteOffset + update.byteLength === buffer.byteLength
  )
}

/**
 * The update message (`encodeUpdate(update)`, byte for byte) as a view over `update`'s own
 * buffer when the buffer is exactly that message, i.e. a client sent the update as a sync
 * update and its buffer holds that message alone (`ownsUpdateBuffer`); else undefined. Saves
 * the fan-out a copy of the update. Only for buffers nobody writes to (received ones).
 */
export function receivedUpdateMessage(update: Uint8Array): Uint8Array | undefined {
  if (!ownsUpdateBuffer(update)) return undefined
  const header = 2 + varUintBytes(update.byteLength)
  if (update.byteOffset !== header) return undefined
  const message = new Uint8Array(update.buffer, 0, header + update.byteLength)
  if (message[0] !== MessageType.sync || message[1] !== SyncType.update) return undefined
  // The length as encodeUpdate writes it (a client may have sent a longer varuint form).
  let rest = update.byteLength
  for (let i = 2; i < header; i++) {
    const byte = i === header - 1 ? rest : (rest & 0x7f) | 0x80
    if (message[i] !== byte) return undefined
    rest = Math.floor(rest / 128)
  }
  return message
}
