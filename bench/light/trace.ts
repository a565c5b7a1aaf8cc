/**
 * Pre-encoded typing traces for the light generator: valid Yjs v1 updates written without Yjs.
 *
 * One trace per writer, with a fixed clientID and sequential clocks: every edit inserts one
 * ASCII character into the root Y.Text 'text' at the writer's cursor (96 %) or first moves the
 * cursor to a random position of the writer's own text (4 %). The writer models only its own
 * characters, so each insert's origin / right origin are ids the writer created itself, which
 * any server can integrate whatever the other writers did. No deletions: a delete-only update
 * carries no clock, so a reader could not time it (the typing model of the Yjs generator keeps
 * its 10 % backspaces). Each update is the byte-for-byte encoding Yjs gives the same insert:
 * 1 struct group, 1 Item with ContentString, empty delete set.
 */
import { mulberry32 } from '../load/typing.js'
import { updateMessage, Writer } from './wire.js'

const LETTERS = 'etaoinshrdlucmfwypvbgkjqxz'
const REF_STRING = 4
const ROOT_KEY = 'text'

export class Trace {
  /** Clock of each of the writer's characters, in document order. */
  private readonly clocks: number[] = []
  private cursor = 0
  private readonly rand: () => number
  /** Next clock = number of edits encoded so far. */
  clock = 0

  constructor(
    readonly client: number,
    seed: number,
  ) {
    this.rand = mulberry32(seed)
  }

  private nextChar(): string {
    const c = this.rand()
    return c < 1 / 60 ? '\n' : c < 1 / 6 ? ' ' : LETTERS[Math.floor(this.rand() * 26)]!
  }

  /** Encodes the next edit as a v1 update. */
  nextUpdate(): Uint8Array {
    if (this.rand() < 0.04) this.cursor = Math.floor(this.rand() * (this.clocks.length + 1))
    const p = this.cursor
    const left = p > 0 ? this.clocks[p - 1]! : -1
    const right = p < this.clocks.length ? this.clocks[p]! : -1
    const w = new Writer()
    w.varUint(1).varUint(1).varUint(this.client).varUint(this.clock)
    w.u8(REF_STRING | (left >= 0 ? 0x80 : 0) | (right >= 0 ? 0x40 : 0))
    if (left >= 0) w.varUint(this.client).varUint(left)
    if (right >= 0) w.varUint(this.client).varUint(right)
    // Parent info only when there is no origin to find the parent from: a root type by name.
    if (left < 0 && right < 0) w.varUint(1).varString(ROOT_KEY)
    w.varString(this.nextChar())
    w.varUint(0) // empty delete set
    this.clocks.splice(p, 0, this.clock)
    this.cursor = p + 1
    this.clock += 1
    return w.done()
  }

  /** The next `n` edits as ready-to-send messages (optionally Hocuspocus-framed). */
  nextMessages(n: number, docName?: string): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) out.push(updateMessage(this.nextUpdate(), docName))
    return out
  }
}
