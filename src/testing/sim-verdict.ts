/**
 * The verdict on one simulated doc: do all its editors hold the same document, and is every
 * edit any of them made present (and every word an author deleted absent) on each of them?
 * Pure functions over Y.Docs and the typists' own records; no I/O.
 */
import * as Y from 'yjs'
import { renderDoc, wordsOf } from './sim-content.js'
import type { Typist } from './sim-typing.js'

/** What the verdict needs of an editor. */
export interface JudgedEditor {
  /** e.g. `sim-k3f9/0#2`: doc name and editor index. */
  readonly id: string
  readonly doc: Y.Doc
  readonly typist: Typist
}

/** An edit that did not make it everywhere. */
export interface LostEdit {
  /** The unique word the edit typed (or deleted). */
  readonly token: string
  /** The editor that made it. */
  readonly author: string
  /** `insert`: the word is missing; `delete`: the author deleted it and it is still there. */
  readonly kind: 'insert' | 'delete'
  /** The editors on which it is missing (or still present, for a delete). */
  readonly missingOn: readonly string[]
}

/** The verdict on one doc. */
export interface DocVerdict {
  readonly name: string
  readonly editors: number
  /** Edits its editors made (all kinds). */
  readonly edits: number
  /** Every editor has the same state vector and the same content. */
  readonly converged: boolean
  /** Number of lost edits (the list below is capped). */
  readonly lostCount: number
  /** The first lost edits, at most {@link MAX_LISTED_LOSSES}. */
  readonly lost: readonly LostEdit[]
  /** When not converged: the first editor that differs from the first one, and where. */
  readonly firstDiff?: string
}

export const MAX_LISTED_LOSSES = 20

/** True when every editor of the doc holds the same state and content (cheap check first). */
export function hasConverged(docs: readonly Y.Doc[]): boolean {
  return firstDivergent(docs) === -1
}

function firstDivergent(docs: readonly Y.Doc[]): number {
  const first = docs[0]
  if (!first) return -1
  const vector = Y.encodeStateVector(first)
  for (let i = 1; i < docs.length; i++) {
    if (Buffer.compare(Y.encodeStateVector(docs[i]!), vector) !== 0) return i
  }
  const content = renderDoc(first)
  for (let i = 1; i < docs.length; i++) if (renderDoc(docs[i]!) !== content) return i
  return -1
}

export function judgeDoc(name: string, editors: readonly JudgedEditor[]): DocVerdict {
  const words = editors.map((editor) => wordsOf(editor.doc))
  const lost: LostEdit[] = []
  let lostCount = 0
  const note = (token: string, author: string, kind: LostEdit['kind'], missingOn: string[]) => {
    if (missingOn.length === 0) return
    lostCount += 1
    if (lost.length < MAX_LISTED_LOSSES) lost.push({ token, author, kind, missingOn })
  }
  for (const author of editors) {
    for (const token of author.typist.live) {
      note(
        token,
        author.id,
        'insert',
        editors.filter((_, i) => !words[i]!.has(token)).map((editor) => editor.id),
      )
    }
    for (const token of author.typist.deleted) {
      note(
        token,
        author.id,
        'delete',
        editors.filter((_, i) => words[i]!.has(token)).map((editor) => editor.id),
      )
    }
  }
  const divergent = firstDivergent(editors.map((editor) => editor.doc))
  const edits = editors.reduce(
    (sum, editor) => sum + Object.values(editor.typist.counts).reduce((a, b) => a + b, 0),
    0,
  )
  return {
    name,
    editors: editors.length,
    edits,
    converged: divergent === -1,
    lostCount,
    lost,
    ...(divergent === -1 ? {} : { firstDiff: describeDiff(editors[0]!, editors[divergent]!) }),
  }
}

/** A short human description of how editor `b` differs from editor `a`. */
export function describeDiff(a: JudgedEditor, b: JudgedEditor): string {
  const lines = [`${b.id} differs from ${a.id}`]
  const va = Y.decodeStateVector(Y.encodeStateVector(a.doc))
  const vb = Y.decodeStateVector(Y.encodeStateVector(b.doc))
  const clients = [...new Set([...va.keys(), ...vb.keys()])].filter((c) => va.get(c) !== vb.get(c))
  if (clients.length > 0) {
    const shown = clients
      .slice(0, 5)
      .map((c) => `client ${c}: ${va.get(c) ?? 0} vs ${vb.get(c) ?? 0}`)
      .join(', ')
    lines.push(
      `  state vector: ${shown}${clients.length > 5 ? `, … (${clients.length} clients differ)` : ''}`,
    )
  }
  const ca = renderDoc(a.doc)
  const cb = renderDoc(b.doc)
  if (ca !== cb) {
    let at = 0
    while (at < ca.length && at < cb.length && ca[at] === cb[at]) at++
    const excerpt = (s: string) => JSON.stringify(s.slice(Math.max(0, at - 30), at + 50))
    lines.push(`  content (${ca.length} vs ${cb.length} chars) differs at char ${at}:`)
    lines.push(`    ${a.id}: …${excerpt(ca)}…`)
    lines.push(`    ${b.id}: …${excerpt(cb)}…`)
  }
  return lines.join('\n')
}
