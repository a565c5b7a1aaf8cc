/**
 * Worker-thread entry of the big-doc host (big-doc-host.ts): holds the Y.Doc of every room
 * whose document is too big to be applied to, encoded or cut on the main event loop, and
 * does exactly that work here. One thread for all big docs: requests are handled one at a
 * time in arrival order and each is answered before the next starts (the host relies on it).
 * No I/O: the main thread stores, relays and fans out.
 */
import { parentPort } from 'node:worker_threads'
import * as Y from 'yjs'
import { decodeClientMessage } from '../protocol/messages.js'
import { UpdateReceiver } from '../room/receive.js'
import { encodeStateAsUpdatePieces } from '../room/split-update.js'
import { newServerDoc } from '../storage/server-doc.js'
import type {
  ApplyReply,
  BigDocReply,
  BigDocRequest,
  LentReply,
  SnapshotReply,
  ValidateReply,
} from './big-doc-protocol.js'
import { encodeWhole } from './encode-whole.js'
import type { ValidationVerdict } from './tasks.js'
import { lowerThisThreadPriority } from './thread-priority.js'

interface HeldDoc {
  readonly doc: Y.Doc
  /**
   * Bytes of every update the doc was built from or accepted: about its encoded size (an
   * encode rarely exceeds what built it), used to size a snapshot's buffer at once.
   */
  bytes: number
}

// Applying a big push here must not take the core from the event loop (thread-priority.ts).
lowerThisThreadPriority()

const docs = new Map<string, HeldDoc>()
// The worker's docs have no 'update' listener to mute: Yjs then skips encoding each change.
const receiver = new UpdateReceiver()

function handle(request: BigDocRequest): BigDocReply | undefined {
  switch (request.op) {
    case 'open': {
      docs.get(request.key)?.doc.destroy()
      const doc = newServerDoc({ gc: true })
      // Our own accepted state: it applied before, it applies again.
      let bytes = 0
      for (const update of request.updates) {
        Y.applyUpdate(doc, update)
        bytes += update.byteLength
      }
      docs.set(request.key, { doc, bytes })
      const stateVector = Y.encodeStateVector(doc)
      if (!request.lent) return { id: request.id, ok: true, value: stateVector }
      // Copies, not the received buffers: the doc may hold views into them (binary content).
      const value: LentReply = { stateVector, updates: request.updates.map((update) => update.slice()) }
      return { id: request.id, ok: true, value }
    }
    case 'close':
      docs.get(request.key)?.doc.destroy()
      docs.delete(request.key)
      return undefined
    case 'apply': {
      const held = heldDoc(request.key)
      const doc = held.doc
      let integrated: Uint8Array | undefined
      const reply = (told: boolean, error?: string): ApplyReply => ({
        told,
        integrated,
        error,
        stateVector: Y.encodeStateVector(doc),
        returned: request.lent ? request.update : undefined,
      })
      // A lent buffer goes back: the doc may keep views into what it applied (binary
      // content), so it applies a copy made here, off the event loop.
      const update = request.lent ? request.update.slice() : request.update
      try {
        const told = receiver.apply(doc, update, null, (part) => {
          integrated = part
        })
        if (told) held.bytes += request.update.byteLength
        return { id: request.id, ok: true, value: reply(told) }
      } catch (error) {
        return { id: request.id, ok: true, value: reply(false, String(error)) }
      }
    }
    case 'validate': {
      const result = decodeClientMessage(request.message)
      const verdict: ValidationVerdict = result.ok
        ? { ok: true }
        : { ok: false, reason: result.reason, detail: result.detail }
      const value: ValidateReply = { verdict, message: request.message }
      return { id: request.id, ok: true, value }
    }
    case 'first-sync': {
      const doc = heldDoc(request.key).doc
      const pieces = encodeStateAsUpdatePieces(doc, request.stateVector, request.maxPieceBytes)
      return { id: request.id, ok: true, value: pieces }
    }
    case 'snapshot': {
      const held = heldDoc(request.key)
      const update = encodeWhole(held.doc, held.bytes)
      held.bytes = update.byteLength
      const value: SnapshotReply = { update, stateVector: Y.encodeStateVector(held.doc) }
      return { id: request.id, ok: true, value }
    }
  }
}

function heldDoc(key: string): HeldDoc {
  const held = docs.get(key)
  if (!held) throw new Error(`no big doc ${key} on this worker`)
  return held
}

/** The buffers a reply can hand over instead of copying (each owns its whole ArrayBuffer). */
function transferables(reply: BigDocReply): ArrayBuffer[] {
  if (!reply.ok) return []
  const value = reply.value
  // Lent buffers go back whole (the message around the update came with them).
  if (!Array.isArray(value) && !(value instanceof Uint8Array) && 'verdict' in value)
    return [value.message.buffer as ArrayBuffer]
  const lent =
    !Array.isArray(value) && !(value instanceof Uint8Array) && 'told' in value && value.returned
      ? [value.returned.buffer as ArrayBuffer]
      : []
  const arrays = Array.isArray(value)
    ? value
    : value instanceof Uint8Array
      ? [value]
      : 'told' in value
        ? [value.stateVector, ...(value.integrated ? [value.integrated] : [])]
        : 'updates' in value
          ? [value.stateVector, ...value.updates]
          : [value.update, value.stateVector]
  const buffers = new Set<ArrayBuffer>()
  // A snapshot's update may be a view of a bigger buffer this thread made for it alone.
  if (!Array.isArray(value) && !(value instanceof Uint8Array) && 'update' in value) {
    const buffer = value.update.buffer
    if (buffer instanceof ArrayBuffer && value.update.byteOffset === 0) buffers.add(buffer)
  }
  for (const array of arrays) {
    const buffer = array.buffer
    if (buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === buffer.byteLength)
      buffers.add(buffer)
  }
  return [...buffers, ...lent]
}

parentPort?.on('message', (request: BigDocRequest) => {
  let reply: BigDocReply | undefined
  try {
    reply = handle(request)
  } catch (error) {
    // Every request but close is answered; close only destroys.
    if ('id' in request) reply = { id: request.id, ok: false, error: String(error) }
  }
  if (reply) parentPort?.postMessage(reply, transferables(reply))
})
