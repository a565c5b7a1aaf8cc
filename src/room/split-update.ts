/**
 * Encodes what a receiver lacks of a Y.Doc as several valid Yjs (v1) updates of bounded size,
 * so a big first sync reaches a client as a stream of messages instead of one that a slow
 * link cannot finish before the stock client's 30 s silence timeout (and that a send budget
 * cannot hold).
 *
 * How: walk the doc's struct store from the receiver's state vector (what
 * `Y.encodeStateAsUpdate` writes, without decoding anything), cut long string/array items into
 * parts (each part an item whose origin is the previous part, exactly how Yjs itself splits
 * items), order the structs so each one's dependencies (origin, right origin, parent) come
 * first, then pack that sequence into pieces; each piece writes, per client, one run of
 * consecutive clocks. The delete set goes alone in the last piece, after every struct.
 * Applying all pieces in order gives exactly the document `Y.encodeStateAsUpdate` would; as
 * each piece depends only on earlier ones (or on what the receiver has), none waits in the
 * receiver's pending structs.
 *
 * Limit: an item that cannot be cut (binary content, an embed, a format, a sub-type) stays
 * whole, so one piece may exceed `maxPieceBytes` by that item.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { newServerDoc } from '../storage/server-doc.js'

/**
 * `encodeStateAsUpdatePieces` for a doc held as one encoded update (a room in encoded mode):
 * builds a scratch Y.Doc from it. Meant for a worker thread: the cost is the doc's size.
 */
export function encodedFirstSyncPieces(
  state: Uint8Array,
  stateVector: Uint8Array,
  maxPieceBytes: number,
): Uint8Array[] {
  const doc = newServerDoc()
  try {
    Y.applyUpdate(doc, state)
    return encodeStateAsUpdatePieces(doc, stateVector, maxPieceBytes)
  } finally {
    doc.destroy()
  }
}

/** A stored struct, written from `offset` (a receiver may have its first clocks already). */
interface Segment {
  readonly struct: Y.Item | Y.GC
  readonly offset: number
}

/** Bytes a UTF-16 code unit can take in UTF-8 (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_BYTES_PER_UNIT = 3

/**
 * `Y.encodeStateAsUpdate(doc, stateVector)` as an ordered list of valid updates, each at most
 * `maxPieceBytes` long (see the module limit), whose union is that update. When it fits in
 * one piece it is returned alone, unchanged.
 */
export function encodeStateAsUpdatePieces(
  doc: Y.Doc,
  stateVector: Uint8Array | undefined,
  maxPieceBytes: number,
): Uint8Array[] {
  const known = stateVector ? Y.decodeStateVector(stateVector) : new Map<number, number>()
  // Encoding the whole only to learn that it does not fit costs the doc's size again plus
  // lib0's doubling chunks, garbage on the cutting thread until its next GC (a 26 MB
  // doc: 26 MB + chunks, heaptrack). Skipped when its text alone is too big.
  if (!textExceeds(doc, known, maxPieceBytes)) {
    const whole = Y.encodeStateAsUpdate(doc, stateVector)
    if (whole.byteLength <= maxPieceBytes) return [whole]
  }
  const queues = new Map<number, Segment[]>()
  for (const [client, structs] of doc.store.clients) {
    const from = known.get(client) ?? 0
    const queue: Segment[] = []
    for (let i = firstIndexFrom(structs, from); i < structs.length; i++) {
      const struct = structs[i]!
      queue.push(...cutSegment({ struct, offset: Math.max(0, from - struct.id.clock) }, maxPieceBytes))
    }
    if (queue.length > 0) queues.set(client, queue)
  }
  const pieces = packSegments(orderByDependencies(queues, known), maxPieceBytes)
  // Structs only so far: the delete set, with no structs, goes last.
  pieces.push(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)))
  return pieces
}

/**
 * Whether the text a receiver at `known` lacks is more than `bytes` long: a lower bound of the
 * encoded size (a UTF-16 code unit encodes to at least one byte), without encoding anything.
 */
function textExceeds(doc: Y.Doc, known: ReadonlyMap<number, number>, bytes: number): boolean {
  let units = 0
  for (const [client, structs] of doc.store.clients) {
    const from = known.get(client) ?? 0
    for (let i = firstIndexFrom(structs, from); i < structs.length; i++) {
      const struct = structs[i]!
      if (!(struct instanceof Y.Item) || struct.deleted || !(struct.content instanceof Y.ContentString))
        continue
      units += struct.content.str.length - Math.max(0, from - struct.id.clock)
      if (units > bytes) return true
    }
  }
  return false
}

/** Index of the struct holding clock `from` (or the first after it). */
function firstIndexFrom(structs: readonly (Y.Item | Y.GC)[], from: number): number {
  let low = 0
  let high = structs.length
  while (low < high) {
    const mid = (low + high) >> 1
    const struct = structs[mid]!
    if (struct.id.clock + struct.length <= from) low = mid + 1
    else high = mid
  }
  return low
}

/** Cuts a long string or array item into copies that each encode well under the bound. */
function cutSegment(segment: Segment, maxPieceBytes: number): Segment[] {
  const { struct, offset } = segment
  if (!(struct instanceof Y.Item)) return [segment]
  const content = struct.content
  let bounds: number[]
  if (content instanceof Y.ContentString) {
    const units = Math.max(2, Math.floor(maxPieceBytes / (2 * MAX_UTF8_BYTES_PER_UNIT)))
    bounds = stringBounds(content.str, offset, units)
  } else if (content instanceof Y.ContentAny) {
    bounds = arrayBounds(content.arr, offset, Math.floor(maxPieceBytes / 2))
  } else {
    return [segment]
  }
  if (bounds.length <= 2) return [segment]
  const { client, clock } = struct.id
  const parts: Segment[] = []
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!
    const end = bounds[i + 1]!
    const part =
      content instanceof Y.ContentString
        ? new Y.ContentString(content.str.slice(start, end))
        : new Y.ContentAny((content as Y.ContentAny).arr.slice(start, end))
    // A detached copy (never integrated): the store's item is not touched.
    const copy = new Y.Item(
      Y.createID(client, clock + start),
      null,
      start === 0 ? struct.origin : Y.createID(client, clock + start - 1),
      null,
      struct.rightOrigin,
      struct.parent,
      struct.parentSub,
      part,
    )
    parts.push({ struct: copy, offset: 0 })
  }
  return parts
}

/** Offsets from `from` that cut `text` into runs of at most `units`, never inside a pair. */
function stringBounds(text: string, from: number, units: number): number[] {
  const bounds = [from]
  let at = from
  while (text.length - at > units) {
    let next = at + units
    const last = text.charCodeAt(next - 1)
    if (last >= 0xd800 && last <= 0xdbff) next -= 1 // keep a surrogate pair together
    bounds.push(next)
    at = next
  }
  bounds.push(text.length)
  return bounds
}

/** Offsets from `from` that cut `values` into runs of about `bytes` (JSON size as estimate). */
function arrayBounds(values: readonly unknown[], from: number, bytes: number): number[] {
  const bounds = [from]
  let size = 0
  for (let i = from; i < values.length; i++) {
    const valueBytes = (JSON.stringify(values[i]) ?? '').length + 1
    if (size > 0 && size + valueBytes > bytes) {
      bounds.push(i)
      size = 0
    }
    size += valueBytes
  }
  bounds.push(values.length)
  return bounds
}

/** Whether the receiver will have everything `segment` needs to be integrated. */
function dependenciesMet(segment: Segment, isMet: (id: Y.ID | null) => boolean): boolean {
  const { struct, offset } = segment
  if (!(struct instanceof Y.Item)) return true
  // From an offset, the origin is the struct's own previous clock: met by clock order.
  const origin = offset > 0 ? null : struct.origin
  if (!isMet(origin) || !isMet(struct.rightOrigin)) return false
  if (origin !== null || struct.rightOrigin !== null) return true
  const parent = struct.parent
  return isMet(parent instanceof Y.ID ? parent : (parent?._item?.id ?? null))
}

/**
 * Orders segments so each comes after what it depends on; per client the order stays by
 * clock. Repeatedly takes, from each client, every segment whose dependencies are met.
 */
function orderByDependencies(
  queues: ReadonlyMap<number, Segment[]>,
  known: ReadonlyMap<number, number>,
): Segment[] {
  const have = new Map(known)
  const isMet = (id: Y.ID | null): boolean => id === null || id.clock < (have.get(id.client) ?? 0)
  const next = new Map([...queues.keys()].map((client) => [client, 0]))
  const total = [...queues.values()].reduce((sum, queue) => sum + queue.length, 0)
  const ordered: Segment[] = []
  while (ordered.length < total) {
    let progressed = false
    for (const [client, queue] of queues) {
      let index = next.get(client) ?? 0
      while (index < queue.length && dependenciesMet(queue[index]!, isMet)) {
        const { struct } = queue[index]!
        ordered.push(queue[index]!)
        have.set(client, struct.id.clock + struct.length)
        index++
        progressed = true
      }
      next.set(client, index)
    }
    if (!progressed) {
      // Something the doc itself does not have (it waits in its pending structs): send the
      // rest by client, as Y.encodeStateAsUpdate would; the receiver waits the same way.
      for (const [client, queue] of queues) ordered.push(...queue.slice(next.get(client) ?? 0))
      break
    }
  }
  return ordered
}

/** One client's run of consecutive clocks inside a piece. */
interface Run {
  readonly client: number
  readonly clock: number
  readonly structs: Uint8Array[]
  nextClock: number
}

/** Packs ordered segments into updates of at most `maxPieceBytes` (one oversized item alone). */
function packSegments(ordered: readonly Segment[], maxPieceBytes: number): Uint8Array[] {
  const pieces: Uint8Array[] = []
  let runs = new Map<number, Run>()
  let bytes = 0
  // Per run: count, client and clock (varuints of at most 10 bytes each).
  const runOverhead = 30
  // Each struct through one reused encoder (v1 structs encode independently), copied out
  // exactly. Why not all into one buffer and views of it: that buffer is the whole doc again,
  // grown in lib0's doubling chunks and then copied (26 MB doc: 44.5 MB of chunks + 26 MB,
  // besides the 26 MB of pieces, heaptrack); now only the piece being packed is held twice.
  const encoder = new Y.UpdateEncoderV1()
  const rest = encoder.restEncoder
  for (const segment of ordered) {
    rest.cpos = 0
    rest.bufs = []
    segment.struct.write(encoder, segment.offset)
    const encoded = encoding.toUint8Array(rest)
    const client = segment.struct.id.client
    const clock = segment.struct.id.clock + segment.offset
    const run = runs.get(client)
    // A piece holds one run of consecutive clocks per client (the format has no second run).
    const breaksRun = run !== undefined && run.nextClock !== clock
    const added = encoded.byteLength + (run ? 0 : runOverhead)
    if (runs.size > 0 && (bytes + added > maxPieceBytes || breaksRun)) {
      pieces.push(encodeRuns(runs))
      runs = new Map()
      bytes = 0
    }
    const target = runs.get(client) ?? { client, clock, structs: [], nextClock: clock }
    runs.set(client, target)
    target.structs.push(encoded)
    target.nextClock = segment.struct.id.clock + segment.struct.length
    bytes += encoded.byteLength + (target.structs.length === 1 ? runOverhead : 0)
  }
  if (runs.size > 0) pieces.push(encodeRuns(runs))
  return pieces
}

/** Writes runs as one v1 update with an empty delete set (v1 structs encode independently). */
function encodeRuns(runs: ReadonlyMap<number, Run>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, runs.size)
  for (const run of runs.values()) {
    encoding.writeVarUint(encoder, run.structs.length)
    encoding.writeVarUint(encoder, run.client)
    encoding.writeVarUint(encoder, run.clock)
    for (const struct of run.structs) encoding.writeUint8Array(encoder, struct)
  }
  encoding.writeVarUint(encoder, 0) // empty delete set
  return encoding.toUint8Array(encoder)
}
