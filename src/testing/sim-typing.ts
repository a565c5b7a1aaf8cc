/**
 * The editing behaviour of one simulated editor: what one "edit" does to the rich-text
 * document (see sim-content.ts for its shape). Seeded, so a run can be repeated.
 *
 * Edits, each one Yjs transaction:
 *  - 62 % type a word at a word boundary of a random paragraph, usually plain, sometimes bold
 *    or italic (like a writer finishing a word; the word is the unit of tracking);
 *  - 8 %  start a new paragraph with a word in it, at a random place;
 *  - 15 % delete one of this editor's own words (backspacing over it);
 *  - 15 % toggle bold or italic over a random range of a paragraph (any author's text).
 *
 * Tracking invariant: every word typed is a unique token followed by one space, so each
 * paragraph's plain text is a sequence of "token " units. Editors insert only between units
 * and delete only their own units, and formatting never changes characters — so no edit can
 * split or remove another editor's token. After a run, every token an editor typed and did not
 * delete itself must be present on every editor, and every token it deleted must be absent.
 */
import type { PRNG } from 'lib0/prng'
import * as prng from 'lib0/prng'
import * as Y from 'yjs'
import { FRAGMENT_NAME, paragraphTexts, plainText } from './sim-content.js'

export type EditKind = 'insert' | 'paragraph' | 'delete' | 'format'

/** What kinds of edits an editor made, by kind. */
export type EditCounts = Record<EditKind, number>

export function emptyCounts(): EditCounts {
  return { insert: 0, paragraph: 0, delete: 0, format: 0 }
}

type Marks = Record<string, object | null>

const MARKS: string[] = ['strong', 'em']

/** The transaction origin of simulated edits (anything but the provider: a local change). */
export const TYPING_ORIGIN = Symbol('simulated-typing')

export class Typist {
  /** Tokens this editor typed and has not deleted: must be present everywhere at the end. */
  readonly live = new Set<string>()
  /** Tokens this editor typed and then deleted: must be absent everywhere at the end. */
  readonly deleted = new Set<string>()
  readonly counts = emptyCounts()
  private seq = 0

  /**
   * @param tag a prefix unique to this editor in this run (no spaces), e.g. `k3f9.d0.e2.`;
   *   tokens are `tag` + a sequence number.
   */
  constructor(
    private readonly random: PRNG,
    private readonly tag: string,
  ) {}

  /** Makes one edit to `doc` as one transaction and says which kind it was. */
  edit(doc: Y.Doc): EditKind {
    let kind: EditKind = 'insert'
    doc.transact(() => {
      kind = this.editIn(doc.getXmlFragment(FRAGMENT_NAME))
    }, TYPING_ORIGIN)
    this.counts[kind] += 1
    return kind
  }

  private editIn(fragment: Y.XmlFragment): EditKind {
    const texts = paragraphTexts(fragment)
    const roll = prng.real53(this.random)
    if (texts.length === 0 || roll < 0.08) {
      this.newParagraph(fragment)
      return 'paragraph'
    }
    if (roll < 0.23 && this.live.size > 0 && this.deleteOwnWord(texts)) return 'delete'
    if (roll >= 0.85 && this.format(texts)) return 'format'
    this.typeWord(prng.oneOf(this.random, texts))
    return 'insert'
  }

  private nextToken(): string {
    this.seq += 1
    const token = `${this.tag}${this.seq}`
    this.live.add(token)
    return token
  }

  private randomMarks(): Marks {
    const roll = prng.real53(this.random)
    if (roll < 0.75) return {}
    if (roll < 0.87) return { strong: {} }
    if (roll < 0.97) return { em: {} }
    return { strong: {}, em: {} }
  }

  private newParagraph(fragment: Y.XmlFragment): void {
    const paragraph = new Y.XmlElement('paragraph')
    fragment.insert(prng.uint32(this.random, 0, fragment.length), [paragraph])
    const text = new Y.XmlText()
    paragraph.insert(0, [text])
    text.insert(0, `${this.nextToken()} `, this.randomMarks())
  }

  private typeWord(text: Y.XmlText): void {
    const plain = plainText(text)
    // Unit boundaries: the start, and right after every space.
    const boundaries = [0]
    for (let i = 0; i < plain.length; i++) if (plain[i] === ' ') boundaries.push(i + 1)
    // Explicit marks (even none): Yjs would otherwise inherit the marks on the left.
    text.insert(prng.oneOf(this.random, boundaries), `${this.nextToken()} `, this.randomMarks())
  }

  private deleteOwnWord(texts: readonly Y.XmlText[]): boolean {
    const own = [...this.live]
    const token = own[prng.uint32(this.random, 0, own.length - 1)]!
    const unit = `${token} `
    for (const text of texts) {
      const plain = plainText(text)
      let at = plain.indexOf(unit)
      // A unit starts at a boundary; "a.1 " also occurs inside "xa.1 " only if tags collide,
      // which unique tags rule out, but checking costs nothing.
      while (at > 0 && plain[at - 1] !== ' ') at = plain.indexOf(unit, at + 1)
      if (at < 0) continue
      text.delete(at, unit.length)
      this.live.delete(token)
      this.deleted.add(token)
      return true
    }
    return false
  }

  private format(texts: Y.XmlText[]): boolean {
    const text = prng.oneOf(this.random, texts)
    const length = text.length
    if (length === 0) return false
    const start = prng.uint32(this.random, 0, length - 1)
    const span = prng.uint32(this.random, 1, Math.min(40, length - start))
    const mark = prng.oneOf(this.random, MARKS)
    text.format(start, span, { [mark]: prng.bool(this.random) ? {} : null })
    return true
  }
}
