/**
 * Synthetic typing model, seeded so every target sees the same edit sequence.
 *
 * Each call makes one edit, as one Yjs transaction, at the writer's own cursor:
 *  - 86 % insert one character: letters, a space about every 6th, a newline about every 60th;
 *  - 10 % backspace (delete the character before the cursor);
 *  - 4 % move the cursor to a random position (clicking elsewhere in the text).
 * That gives the ~25-30 B updates of a real typing trace (crdt-benchmarks B1/B4).
 */
import type * as Y from 'yjs'

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const LETTERS = 'etaoinshrdlucmfwypvbgkjqxz'

export class Typist {
  private cursor = 0
  private readonly rand: () => number

  constructor(seed: number) {
    this.rand = mulberry32(seed)
  }

  /** Applies one edit to `text`. Call inside a transaction. */
  edit(text: Y.Text): void {
    const len = text.length
    if (this.cursor > len) this.cursor = len
    const r = this.rand()
    if (r < 0.04) {
      this.cursor = Math.floor(this.rand() * (len + 1))
    } else if (r < 0.14 && this.cursor > 0) {
      text.delete(this.cursor - 1, 1)
      this.cursor -= 1
    } else {
      const c = this.rand()
      const ch =
        c < 1 / 60 ? '\n' : c < 1 / 6 ? ' ' : LETTERS[Math.floor(this.rand() * 13 + this.rand() * 13)]!
      text.insert(this.cursor, ch)
      this.cursor += 1
    }
  }
}
