/**
 * The light generator's codecs: y-websocket framing (optionally prefixed with the doc name, as
 * Hocuspocus frames are), Yjs v1 update and state-vector headers, written and read by hand so a
 * client never builds a Y.Doc. Pure functions over bytes; no I/O.
 *
 * Reading a delivered update only walks the struct headers to learn which (client, clock) range
 * it carries: that is enough to time an edit even when the server re-encodes or merges updates.
 */

export const MSG_SYNC = 0
export const MSG_AWARENESS = 1
/** Hocuspocus only: authentication, and the reply type it uses for its own sync step 1. */
export const MSG_HP_AUTH = 2
export const MSG_HP_SYNC_REPLY = 4
export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

/** Growable byte writer (varuint / varstring as lib0 writes them). */
export class Writer {
  private buf = new Uint8Array(64)
  pos = 0

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n))
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  u8(b: number): this {
    this.ensure(1)
    this.buf[this.pos++] = b
    return this
  }

  varUint(n: number): this {
    this.ensure(8)
    // Multiplication, not bit shifts: client ids may exceed 31 bits.
    while (n > 0x7f) {
      this.buf[this.pos++] = 0x80 | (n % 0x80)
      n = Math.floor(n / 0x80)
    }
    this.buf[this.pos++] = n
    return this
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  varBytes(b: Uint8Array): this {
    return this.varUint(b.length).bytes(b)
  }

  varString(s: string): this {
    return this.varBytes(Buffer.from(s, 'utf8'))
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/** Cursor over received bytes; throws RangeError past the end. */
export class Reader {
  pos: number
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos
  }

  u8(): number {
    if (this.pos >= this.end) throw new RangeError('read past end')
    return this.buf[this.pos++]!
  }

  varUint(): number {
    let n = 0
    let mult = 1
    for (;;) {
      const b = this.u8()
      n += (b & 0x7f) * mult
      if (b < 0x80) return n
      mult *= 0x80
      if (mult > 2 ** 53) throw new RangeError('varuint too long')
    }
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('read past end')
    this.pos += n
  }

  varString(): string {
    const len = this.varUint()
    const start = this.pos
    this.skip(len)
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, len).toString('utf8')
  }
}

/** Frames one message: `[docName?] type ...body`. */
function frame(docName: string | undefined, build: (w: Writer) => void): Uint8Array {
  const w = new Writer()
  if (docName !== undefined) w.varString(docName)
  build(w)
  return w.done()
}

/** Sync step 1 with an empty state vector ("send me everything"). */
export function syncStep1Empty(docName?: string): Uint8Array {
  return frame(docName, (w) => w.varUint(MSG_SYNC).varUint(SYNC_STEP1).varBytes(Uint8Array.of(0)))
}

/** Sync step 2 carrying an empty update: the answer of a client that holds nothing. */
export function syncStep2Empty(docName?: string): Uint8Array {
  return frame(docName, (w) => w.varUint(MSG_SYNC).varUint(SYNC_STEP2).varBytes(Uint8Array.of(0, 0)))
}

/** Hocuspocus: the token message every connection must send first (empty token). */
export function hocuspocusAuth(docName: string): Uint8Array {
  return frame(docName, (w) => w.varUint(MSG_HP_AUTH).varUint(0).varString(''))
}

/** A sync "update" message around a v1 update. */
export function updateMessage(update: Uint8Array, docName?: string): Uint8Array {
  return frame(docName, (w) => w.varUint(MSG_SYNC).varUint(SYNC_UPDATE).varBytes(update))
}

export interface Envelope {
  /** y-websocket message type (Hocuspocus sync replies are reported as MSG_SYNC). */
  type: number
  /** Sync sub-type when type is MSG_SYNC, else -1. */
  syncType: number
  /** Start and end of the sync payload (update or state vector) inside the frame. */
  payloadStart: number
  payloadEnd: number
}

/** Reads a frame's envelope; null for frames this client ignores (awareness, auth, acks). */
export function readEnvelope(buf: Uint8Array, withDocName: boolean): Envelope | null {
  const r = new Reader(buf)
  if (withDocName) r.skip(r.varUint())
  let type = r.varUint()
  if (type === MSG_HP_SYNC_REPLY && withDocName) type = MSG_SYNC
  if (type !== MSG_SYNC) return null
  const syncType = r.varUint()
  const len = r.varUint()
  if (r.pos + len > buf.length) throw new RangeError('truncated sync payload')
  return { type, syncType, payloadStart: r.pos, payloadEnd: r.pos + len }
}

const REF_GC = 0
const REF_DELETED = 1
const REF_STRING = 4
const REF_SKIP = 10

/**
 * Calls `seen(client, lastClock)` for every struct group of a v1 update, `lastClock` being the
 * last clock the group covers. Walks item headers (origins, parent) and sizes String, Deleted,
 * GC and Skip contents, the only kinds the light trace produces; on any other content kind the
 * group reports the lower bound it knows (its first struct's clock + struct count - 1) and the
 * walk stops, since later groups cannot be located without decoding that content.
 */
export function scanUpdate(
  buf: Uint8Array,
  start: number,
  end: number,
  seen: (client: number, lastClock: number) => void,
): void {
  const r = new Reader(buf, start, end)
  const groups = r.varUint()
  for (let g = 0; g < groups; g++) {
    const structs = r.varUint()
    const client = r.varUint()
    const clock = r.varUint()
    let len = 0
    for (let s = 0; s < structs; s++) {
      const info = r.u8()
      const ref = info & 0x1f
      if (ref === REF_GC || ref === REF_SKIP) {
        len += r.varUint()
        continue
      }
      if (info & 0x80) {
        r.varUint()
        r.varUint()
      }
      if (info & 0x40) {
        r.varUint()
        r.varUint()
      }
      if ((info & 0xc0) === 0) {
        if (r.varUint() === 1) r.skip(r.varUint())
        else {
          r.varUint()
          r.varUint()
        }
        if (info & 0x20) r.skip(r.varUint())
      }
      if (ref === REF_STRING) {
        // The trace types ASCII only, so UTF-8 bytes = UTF-16 units = clock length. A merged
        // string with other text would count bytes; still a valid lower bound for timing.
        const n = r.varUint()
        r.skip(n)
        len += Math.max(1, countUtf16(buf, r.pos - n, r.pos))
      } else if (ref === REF_DELETED) {
        len += r.varUint()
      } else {
        seen(client, clock + len + (structs - s) - 1)
        return
      }
    }
    if (len > 0) seen(client, clock + len - 1)
  }
}

/** UTF-16 code units in a UTF-8 byte range (what Yjs counts as string length). */
function countUtf16(buf: Uint8Array, start: number, end: number): number {
  let n = 0
  for (let i = start; i < end; i++) {
    const b = buf[i]!
    if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1
  }
  return n
}

/** A state vector's entries (client -> next clock). */
export function readStateVector(buf: Uint8Array, start: number, end: number): Map<number, number> {
  const r = new Reader(buf, start, end)
  const n = r.varUint()
  const out = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const client = r.varUint()
    out.set(client, r.varUint())
  }
  return out
}
