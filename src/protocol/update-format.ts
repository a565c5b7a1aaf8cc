/**
 * An exact check of the Yjs v1 update format, as a pure function over the bytes: it walks
 * every struct and the delete set the way Yjs reads them (`Y.decodeUpdate`'s struct reader,
 * yjs 13.6 src/utils/updates.js) and requires the walk to end exactly at the last byte.
 * `Y.decodeUpdate` ignores leftover bytes, so "a valid update + junk" used to be accepted
 * and stored. Nothing is built (no Item, no string, no object), which also makes this
 * cheaper than `Y.decodeUpdate`; only JSON payloads are decoded, because Yjs parses them
 * when it applies the update and a bad one must not get that far.
 *
 *   update      = varuint(clientCount) clientGroup* deleteSet          (then nothing)
 *   clientGroup = varuint(structCount) varuint(client) varuint(clock) struct*
 *   struct      = u8(info) body        by info & 0x1f:
 *                 0        GC:    varuint(length)                     (high bits ignored)
 *                 10       Skip:  varuint(length)                     (info must be exactly 10)
 *                 1..9     Item:  [id origin if info&0x80] [id rightOrigin if info&0x40]
 *                                 [parent if neither: varuint(1) varstring(rootKey) | varuint(≠1) id]
 *                                 [varstring(parentSub) if neither and info&0x20]
 *                                 content(info & 0x1f)
 *   id          = varuint(client) varuint(clock)
 *   content 1 Deleted = varuint(length)      2 JSON   = varuint(n) varstring(JSON | "undefined")*n
 *           3 Binary  = varbytes             4 String = varstring
 *           5 Embed   = varstring(JSON)      6 Format = varstring(key) varstring(JSON)
 *           7 Type    = varuint(typeRef 0..6) [varstring(nodeName) if typeRef 3 or 5]
 *           8 Any     = varuint(n) any*n     9 Doc    = varstring(guid) any(options, not null/undefined)
 *   any         = u8(tag) by tag: 127 undefined | 126 null | 125 varint | 124 f32 | 123 f64
 *                 | 122 i64 | 121 false | 120 true | 119 varstring | 118 varuint(n) (varstring any)*n
 *                 | 117 varuint(n) any*n | 116 varbytes
 *   deleteSet   = varuint(clientCount) (varuint(client) varuint(n) (varuint(clock) varuint(len))*n)*
 *   varstring   = varuint(byteLength) UTF-8 bytes (valid UTF-8: lib0 decodes with `fatal: true`)
 *   varbytes    = varuint(byteLength) bytes
 */
import { isUtf8 } from 'node:buffer'

/** Deeper nesting of plain values than this is refused: Yjs reads them recursively. */
const MAX_VALUE_DEPTH = 1_000

const TYPE_REF_XML_ELEMENT = 3
const TYPE_REF_XML_HOOK = 5
const TYPE_REF_MAX = 6

class UpdateFormatError extends Error {}

// As lib0 decodes (BOM kept), so JSON.parse sees what Yjs will see; validity is checked apart.
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** Reads the layout above without building anything; throws UpdateFormatError on the first fault. */
class UpdateWalker {
  pos = 0
  /** Structs plus deleted ranges seen: 0 means the update tells a doc nothing. */
  carried = 0

  constructor(private readonly bytes: Uint8Array) {}

  walk(): void {
    const clients = this.varUint('the number of clients')
    for (let c = 0; c < clients; c++) {
      const structs = this.varUint('a struct count')
      this.varUint('a client id')
      this.varUint('a clock')
      for (let s = 0; s < structs; s++) this.struct()
      this.carried += structs
    }
    const deleteClients = this.varUint('the delete set')
    for (let c = 0; c < deleteClients; c++) {
      this.varUint('a delete set client id')
      const ranges = this.varUint('a delete set range count')
      this.carried += ranges
      for (let r = 0; r < ranges; r++) {
        this.varUint('a deleted range')
        this.varUint('a deleted range')
      }
    }
    const left = this.bytes.length - this.pos
    if (left > 0) {
      throw new UpdateFormatError(
        `${left} unexpected trailing byte${left === 1 ? '' : 's'} after the delete set`,
      )
    }
  }

  private struct(): void {
    const at = this.pos
    const info = this.u8('a struct')
    const contentRef = info & 0x1f
    if (contentRef === 0) {
      this.varUint('a GC length')
      return
    }
    if (contentRef === 10) {
      if (info !== 10) throw new UpdateFormatError(`a skip struct with flag bits set (byte ${at})`)
      this.varUint('a skip length')
      return
    }
    if (contentRef > 10) throw new UpdateFormatError(`unknown content type ${contentRef} (byte ${at})`)
    if (info & 0x80) this.id('an origin')
    if (info & 0x40) this.id('a right origin')
    if ((info & 0xc0) === 0) {
      if (this.varUint('a parent') === 1) this.skipString('a root type name')
      else this.id('a parent')
      if (info & 0x20) this.skipString('a map key')
    }
    this.content(contentRef, at)
  }

  private content(contentRef: number, at: number): void {
    switch (contentRef) {
      case 1:
        this.varUint('a deleted length')
        return
      case 2: {
        const count = this.varUint('a JSON count')
        for (let i = 0; i < count; i++) {
          const text = this.string('a JSON value')
          if (text !== 'undefined') this.json(text, at)
        }
        return
      }
      case 3:
        this.skipBytes('binary content')
        return
      case 4:
        this.skipString('a string')
        return
      case 5:
        this.json(this.string('an embed'), at)
        return
      case 6:
        this.skipString('a format key')
        this.json(this.string('a format value'), at)
        return
      case 7: {
        const typeRef = this.varUint('a type')
        if (typeRef > TYPE_REF_MAX) throw new UpdateFormatError(`unknown shared type ${typeRef} (byte ${at})`)
        if (typeRef === TYPE_REF_XML_ELEMENT || typeRef === TYPE_REF_XML_HOOK) this.skipString('a node name')
        return
      }
      case 8: {
        const count = this.varUint('a value count')
        for (let i = 0; i < count; i++) this.any(0)
        return
      }
      default: {
        // 9: a subdocument. Yjs reads its options with `opts.shouldLoad`, which throws on
        // null and undefined.
        this.skipString('a subdocument guid')
        const tag = this.bytes[this.pos]
        if (tag === 127 || tag === 126) {
          throw new UpdateFormatError(
            `subdocument options are ${tag === 127 ? 'undefined' : 'null'} (byte ${at})`,
          )
        }
        this.any(0)
      }
    }
  }

  private any(depth: number): void {
    const at = this.pos
    const tag = this.u8('a value')
    switch (tag) {
      case 127: // undefined
      case 126: // null
      case 121: // false
      case 120: // true
        return
      case 125:
        this.varInt()
        return
      case 124:
        this.skip(4, 'a float')
        return
      case 123:
      case 122:
        this.skip(8, tag === 123 ? 'a float' : 'a bigint')
        return
      case 119:
        this.skipString('a string value')
        return
      case 118:
      case 117: {
        if (depth >= MAX_VALUE_DEPTH) {
          throw new UpdateFormatError(`values nested deeper than ${MAX_VALUE_DEPTH} levels`)
        }
        const count = this.varUint(tag === 118 ? 'an object size' : 'an array length')
        for (let i = 0; i < count; i++) {
          if (tag === 118) this.skipString('an object key')
          this.any(depth + 1)
        }
        return
      }
      case 116:
        this.skipBytes('a byte array value')
        return
      default:
        throw new UpdateFormatError(`unknown value tag ${tag} (byte ${at})`)
    }
  }

  private id(what: string): void {
    this.varUint(what)
    this.varUint(what)
  }

  private u8(what: string): number {
    if (this.pos >= this.bytes.length) throw this.endError(what)
    return this.bytes[this.pos++]!
  }

  /** lib0's readVarUint, bounds-checked, with its range check (up to 2^53). */
  private varUint(what: string): number {
    const bytes = this.bytes
    let num = 0
    let mult = 1
    while (this.pos < bytes.length) {
      const r = bytes[this.pos++]!
      num += (r & 0x7f) * mult
      if (r < 0x80) return num
      mult *= 128
      if (num > Number.MAX_SAFE_INTEGER) throw new UpdateFormatError(`${what} is larger than 2^53`)
    }
    throw this.endError(what)
  }

  /** lib0's readVarInt (sign in bit 6 of the first byte), bounds-checked. */
  private varInt(): void {
    let r = this.u8('an integer')
    let num = r & 0x3f
    let mult = 64
    while (r >= 0x80) {
      r = this.u8('an integer')
      num += (r & 0x7f) * mult
      mult *= 128
      if (r >= 0x80 && num > Number.MAX_SAFE_INTEGER)
        throw new UpdateFormatError('an integer is larger than 2^53')
    }
  }

  private skip(length: number, what: string): void {
    if (length > this.bytes.length - this.pos) throw this.endError(what)
    this.pos += length
  }

  private skipBytes(what: string): void {
    this.skip(this.varUint(what), what)
  }

  private skipString(what: string): void {
    this.checkString(what)
  }

  private string(what: string): string {
    const start = this.checkString(what)
    return textDecoder.decode(this.bytes.subarray(start, this.pos))
  }

  /** Reads a varstring, checks it is UTF-8 and returns where its bytes start (they end at pos). */
  private checkString(what: string): number {
    const length = this.varUint(what)
    const start = this.pos
    this.skip(length, what)
    const bytes = this.bytes
    const end = start + length
    // ASCII (nearly every key and most text) is checked here without allocating a view.
    let i = start
    while (i < end && bytes[i]! < 0x80) i++
    if (i < end && !isUtf8(bytes.subarray(i, end))) {
      throw new UpdateFormatError(`${what} is not valid UTF-8 (byte ${start})`)
    }
    return start
  }

  private json(text: string, at: number): void {
    try {
      JSON.parse(text)
    } catch {
      throw new UpdateFormatError(`a struct holds invalid JSON (byte ${at})`)
    }
  }

  private endError(what: string): UpdateFormatError {
    return new UpdateFormatError(
      `the update ends early, in ${what} (byte ${this.pos} of ${this.bytes.length})`,
    )
  }
}

/**
 * Why `update` is not exactly one Yjs v1 update (a sentence for an API error or a log), or
 * undefined when it is. Never throws.
 */
export function updateFormatProblem(update: Uint8Array): string | undefined {
  try {
    new UpdateWalker(update).walk()
    return undefined
  } catch (error) {
    if (error instanceof UpdateFormatError) return error.message
    // A RangeError from the stack is the only other possibility; refuse rather than guess.
    return `the update cannot be read (${error instanceof Error ? error.message : String(error)})`
  }
}

/**
 * Whether a well-formed update carries nothing: no struct and no deleted range (`00 00`, but
 * also client groups of zero structs). Applying one changes no doc, so the document API and
 * imports answer it without opening, creating or storing a doc. False for a malformed update.
 */
export function isEmptyUpdate(update: Uint8Array): boolean {
  const walker = new UpdateWalker(update)
  try {
    walker.walk()
  } catch {
    return false // malformed: not "empty"; validation refuses it with its reason
  }
  return walker.carried === 0
}
