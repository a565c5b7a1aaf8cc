/**
 * Big documents without Yjs: updates that insert fixed-size ASCII chunks at random chunk
 * boundaries of one writer's text, several inserts per update (one struct group, sequential
 * clocks). Used to push a 5 or 50 MB doc in messages below MAX_MESSAGE_BYTES, to paste 400 x
 * 64 KB, and to seed many mid-size docs. Same validity argument as trace.ts: every origin is a
 * chunk this writer made earlier, so any server integrates it.
 */
import { mulberry32 } from '../load/typing.js'
import { updateMessage, Writer } from './wire.js'

const REF_STRING = 4
const ROOT_KEY = 'text'

export class BulkTrace {
  /** [first clock, last clock] of each chunk, in document order. */
  private readonly chunks: Array<[number, number]> = []
  private readonly rand: () => number
  private readonly content: Uint8Array
  clock = 0

  constructor(
    readonly client: number,
    seed: number,
    readonly chunkChars: number,
  ) {
    this.rand = mulberry32(seed)
    const text = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(chunkChars / 27)).slice(0, chunkChars)
    this.content = new Writer().varString(text).done()
  }

  /** Bytes of text written so far. */
  get chars(): number {
    return this.clock
  }

  /** One v1 update with `inserts` chunk inserts, each at a random boundary between chunks. */
  nextUpdate(inserts: number): Uint8Array {
    const w = new Writer()
    w.varUint(1).varUint(inserts).varUint(this.client).varUint(this.clock)
    for (let i = 0; i < inserts; i++) {
      const b = Math.floor(this.rand() * (this.chunks.length + 1))
      const left = b > 0 ? this.chunks[b - 1]![1] : -1
      const right = b < this.chunks.length ? this.chunks[b]![0] : -1
      w.u8(REF_STRING | (left >= 0 ? 0x80 : 0) | (right >= 0 ? 0x40 : 0))
      if (left >= 0) w.varUint(this.client).varUint(left)
      if (right >= 0) w.varUint(this.client).varUint(right)
      if (left < 0 && right < 0) w.varUint(1).varString(ROOT_KEY)
      w.bytes(this.content)
      this.chunks.splice(b, 0, [this.clock, this.clock + this.chunkChars - 1])
      this.clock += this.chunkChars
    }
    w.varUint(0)
    return w.done()
  }

  /**
   * Messages carrying `totalChars` of text (rounded up to whole chunks), each at most
   * `maxMessageBytes` (so below the server's MAX_MESSAGE_BYTES).
   */
  messages(totalChars: number, maxMessageBytes: number, docName?: string): Uint8Array[] {
    const perMessage = Math.max(1, Math.floor((maxMessageBytes - 64) / (this.content.length + 16)))
    const out: Uint8Array[] = []
    let left = Math.ceil(totalChars / this.chunkChars)
    while (left > 0) {
      const n = Math.min(perMessage, left)
      out.push(updateMessage(this.nextUpdate(n), docName))
      left -= n
    }
    return out
  }
}
