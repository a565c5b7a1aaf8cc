/**
 * The send path's WebSocket framing, and the only module that reaches into `ws` internals.
 *
 * Why: `ws.send` frames every call on its own (two options objects, a header Buffer, a
 * two-element array, then cork / two writes / uncork, i.e. a two-chunk writev per frame).
 * A fan-out sends the same bytes to every recipient, and server frames are never masked,
 * so the finished frame (header + payload) is the same for all of them: we build it once
 * per message and write it straight to each connection's socket. Measured at 200 docs x 3
 * editors, 3,500 edits/s: see docs/architecture.md, "Hot path".
 *
 * What we rely on in `ws` 8 (test/unit/ws-frames.test.ts fails if any of it changes):
 * - `ws._socket` is the connection's net.Socket, and ws writes every frame it sends itself
 *   (ping, pong, close, ws.send) straight into it, so our writes and its writes stay in
 *   call order;
 * - `ws._sender._state` is 0 (DEFAULT) unless it is compressing or reading a Blob (we use
 *   neither: permessage-deflate is off), i.e. ws holds no queued frames of its own;
 * - `ws.bufferedAmount` is the socket's unwritten bytes plus the sender's queued bytes, so
 *   frames written here count against MAX_BUFFERED_BYTES exactly as `ws.send`'s did.
 * When any of that does not hold for a socket, `rawSocketOf` returns undefined and the
 * connection falls back on `ws.send`.
 */
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'

/** Frames up to this size are built as one buffer (and shared by every recipient). */
const SHARED_FRAME_MAX_BYTES = 64 * 1024
/** Several frames queued in one tick for one socket, up to this total, are written as one buffer. */
const CONCAT_MAX_BYTES = 16 * 1024

interface WsInternals {
  readonly _socket?: unknown
  readonly _sender?: { readonly _state?: unknown }
  readonly _extensions?: Record<string, unknown>
}

/** The socket under `ws` when writing frames past ws is safe (see the header), else undefined. */
export function rawSocketOf(ws: WebSocket): Socket | undefined {
  const internals = ws as unknown as WsInternals
  const socket = internals._socket as Socket | undefined
  if (!socket || typeof socket.write !== 'function' || typeof socket.cork !== 'function') return undefined
  if (internals._sender?._state !== 0) return undefined
  if (internals._extensions && Object.keys(internals._extensions).length > 0) return undefined
  return socket
}

/** The 2-, 4- or 10-byte header of an unmasked, final, binary frame of `length` bytes (RFC 6455 §5.2). */
export function binaryFrameHeaderLength(length: number): number {
  return length <= 125 ? 2 : length <= 0xffff ? 4 : 10
}

function writeHeader(target: Buffer, length: number): number {
  target[0] = 0x82 // FIN + opcode 2 (binary)
  if (length <= 125) {
    target[1] = length
    return 2
  }
  if (length <= 0xffff) {
    target[1] = 126
    target.writeUInt16BE(length, 2)
    return 4
  }
  target[1] = 127
  target.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
  target.writeUInt32BE(length >>> 0, 6)
  return 10
}

/** A finished frame: one buffer, or (big payloads, not copied) a header and the payload. */
export type Frame = Buffer | readonly [header: Buffer, payload: Uint8Array]

export function frameBytes(frame: Frame): number {
  return Buffer.isBuffer(frame) ? frame.byteLength : frame[0].byteLength + frame[1].byteLength
}

// One-entry cache: a fan-out hands the same message object to every recipient in a row.
let lastMessage: Uint8Array | undefined
let lastFrame: Buffer | undefined

/**
 * The frame carrying `message`, built once for a run of sends of the same message object
 * (messages are never mutated once sent: ws would send a mutated one too).
 */
export function binaryFrame(message: Uint8Array): Frame {
  if (message === lastMessage && lastFrame) return lastFrame
  const length = message.byteLength
  if (length > SHARED_FRAME_MAX_BYTES) {
    const header = Buffer.allocUnsafe(binaryFrameHeaderLength(length))
    writeHeader(header, length)
    return [header, message]
  }
  const frame = Buffer.allocUnsafe(binaryFrameHeaderLength(length) + length)
  frame.set(message, writeHeader(frame, length))
  lastMessage = message
  lastFrame = frame
  return frame
}

/**
 * Frames for one socket, written together at the end of the current tick (or at once when
 * more than CONCAT_MAX_BYTES are queued): a client whose doc gets several updates in one
 * tick (a burst from one peer arrives in one TCP read) costs one socket write, not one per
 * frame. Ordering with ws's own frames (ping, close, paced
 * sends through ws.send) is the caller's job: call `flush()` before any of those.
 */
export class FrameOutbox {
  private first: Frame | undefined
  private more: Frame[] | undefined
  /** Bytes queued here and not yet handed to the socket. */
  queuedBytes = 0

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {}

  push(frame: Frame): void {
    if (this.first === undefined) {
      this.first = frame
      scheduleFlush(this)
    } else {
      if (this.more === undefined) this.more = []
      this.more.push(frame)
    }
    this.queuedBytes += frameBytes(frame)
    // Past this, write now: the send budget counts queued bytes as unsent, and ws.send would
    // have handed them to the kernel at once. So the budget check differs from ws.send's by
    // at most CONCAT_MAX_BYTES of small frames a tick, never by a big one.
    if (this.queuedBytes > CONCAT_MAX_BYTES) this.flush()
  }

  /** Writes what is queued (dropped when the WebSocket is no longer open, as ws.send would). */
  flush(): void {
    const first = this.first
    if (first === undefined) return
    const more = this.more
    const total = this.queuedBytes
    this.first = undefined
    this.more = undefined
    this.queuedBytes = 0
    if (this.ws.readyState !== WebSocket.OPEN || this.socket.destroyed) return
    if (more === undefined) {
      writeFrame(this.socket, first)
      return
    }
    if (total <= CONCAT_MAX_BYTES) {
      const list: Uint8Array[] = []
      appendFrame(list, first)
      for (const frame of more) appendFrame(list, frame)
      this.socket.write(Buffer.concat(list, total))
      return
    }
    this.socket.cork()
    writeFrame(this.socket, first)
    for (const frame of more) writeFrame(this.socket, frame)
    this.socket.uncork()
  }

  /** Forgets what is queued (the connection is closing without a goodbye). */
  discard(): void {
    this.first = undefined
    this.more = undefined
    this.queuedBytes = 0
  }
}

function writeFrame(socket: Socket, frame: Frame): void {
  if (Buffer.isBuffer(frame)) {
    socket.write(frame)
    return
  }
  socket.cork()
  socket.write(frame[0])
  socket.write(frame[1])
  socket.uncork()
}

function appendFrame(list: Uint8Array[], frame: Frame): void {
  if (Buffer.isBuffer(frame)) list.push(frame)
  else list.push(frame[0], frame[1])
}

// Outboxes with frames queued this tick; flushed together once the current callback is done.
let dirty: FrameOutbox[] = []
let flushScheduled = false

function scheduleFlush(outbox: FrameOutbox): void {
  dirty.push(outbox)
  if (flushScheduled) return
  flushScheduled = true
  process.nextTick(flushDirty)
}

function flushDirty(): void {
  const outboxes = dirty
  dirty = []
  flushScheduled = false
  for (const outbox of outboxes) {
    try {
      outbox.flush()
    } catch {
      // A socket that cannot take a write is going away; ws reports that through 'close'.
    }
  }
}
