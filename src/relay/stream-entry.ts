/**
 * The relay's entry codec and stream-id arithmetic, as pure functions (no I/O).
 *
 * An entry is a flat field list: `i` <instance id>, `n` <nonce>, `g` <generation>, `k` <kind>,
 * `d` <payload bytes>. `i` is INSTANCE_ID, a label (not unique); `n` is the writing relay's
 * random nonce, what tells our own entries apart (instance-identity.ts). Entries of versions
 * before `n` lack it. `g` is the doc's deletion generation the writing room joined under: an
 * update entry below the doc's current generation was written before a delete and landed after
 * it (a late relay entry), so readers skip it (`isStaleUpdate`). Absent: written by a version
 * before `g` or by a writer that does not know the generation; such an entry is applied.
 *   kind u: a Yjs update          kind a: an awareness update
 *   kind q: "who is here?" (a joining instance asks peers to re-send their clients' awareness)
 *   kind c: a control message (JSON), only on the control stream
 * Entries written by other instances are untrusted: `decodeEntry` never throws, and the
 * payload is validated by the caller with the protocol codecs before it reaches a room.
 */

import { CorruptStateError } from '../errors.js'
import { parseStoredDecimal } from '../protocol/stored-integer.js'

export type EntryKind = 'u' | 'a' | 'q' | 'c'

const KINDS: ReadonlySet<string> = new Set(['u', 'a', 'q', 'c'])

export interface StreamEntry {
  readonly instanceId: string
  /** The writing relay's nonce; absent in entries of versions from before nonces. */
  readonly nonce?: string
  /** The deletion generation its writer joined the doc under; absent when not known. */
  readonly generation?: number
  readonly kind: EntryKind
  readonly data: Uint8Array
}

export type DecodedEntry = { ok: true; entry: StreamEntry } | { ok: false; reason: string }

export function encodeEntryFields(
  instanceId: string,
  kind: EntryKind,
  data: Uint8Array,
  nonce?: string,
  generation?: number,
): (string | Buffer)[] {
  const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  // Readers of older versions ignore the unknown `n` and `g` fields.
  const fields: (string | Buffer)[] = ['i', instanceId]
  if (nonce !== undefined) fields.push('n', nonce)
  if (generation !== undefined) fields.push('g', String(generation))
  fields.push('k', kind, 'd', payload)
  return fields
}

/**
 * Whether `entry` is an update written under a deletion generation newer than `generation` (the
 * one a room joined under): the doc was deleted since that room joined.
 */
export function isNewerUpdate(entry: StreamEntry, generation: number | undefined): boolean {
  return (
    entry.kind === 'u' &&
    entry.generation !== undefined &&
    generation !== undefined &&
    entry.generation > generation
  )
}

/**
 * Whether `entry` is an update written under a deletion generation older than `generation`
 * (the doc's current one, or the one a room joined under): content from before a delete that
 * reached the stream after it. Applying it would bring deleted content back on the instances
 * that read it, while its writer drops it (docs/integrations.md, "Delete a document").
 */
export function isStaleUpdate(entry: StreamEntry, generation: number | undefined): boolean {
  return (
    entry.kind === 'u' &&
    entry.generation !== undefined &&
    generation !== undefined &&
    entry.generation < generation
  )
}

/** Parses the field list of one stream entry (as read with the *Buffer commands). */
export function decodeEntry(fields: readonly (Buffer | string)[]): DecodedEntry {
  if (!Array.isArray(fields) || fields.length % 2 !== 0) return { ok: false, reason: 'odd field list' }
  let instanceId: string | undefined
  let nonce: string | undefined
  let generation: string | undefined
  let kind: string | undefined
  let data: Uint8Array | undefined
  for (let i = 0; i < fields.length; i += 2) {
    const name = String(fields[i])
    const value = fields[i + 1]!
    if (name === 'i') instanceId = String(value)
    else if (name === 'n') nonce = String(value)
    else if (name === 'g') generation = String(value)
    else if (name === 'k') kind = String(value)
    else if (name === 'd') data = typeof value === 'string' ? Buffer.from(value, 'binary') : value
  }
  if (instanceId === undefined || instanceId.length === 0) return { ok: false, reason: 'no instance id' }
  if (kind === undefined || !KINDS.has(kind)) return { ok: false, reason: `unknown kind ${String(kind)}` }
  if (data === undefined) return { ok: false, reason: 'no payload' }
  const parsedGeneration = generation === undefined ? undefined : parseStoredDecimal(generation)
  if (generation !== undefined && parsedGeneration === undefined) {
    return { ok: false, reason: `bad generation ${JSON.stringify(generation)}` }
  }
  const entry: { -readonly [K in keyof StreamEntry]: StreamEntry[K] } = {
    instanceId,
    kind: kind as EntryKind,
    data: new Uint8Array(data),
  }
  if (nonce !== undefined) entry.nonce = nonce
  if (parsedGeneration !== undefined) entry.generation = parsedGeneration
  return { ok: true, entry }
}

/**
 * A stream id `<ms>-<seq>` (or `<ms>`) as numbers (ms fits a double exactly for the next
 * 280 000 years).
 * @throws CorruptStateError for anything else (`Number('')` is 0: a damaged snapshot
 *   `lastId` would have compared as the stream's start)
 */
export function parseId(id: string): [number, number] {
  const dash = id.indexOf('-')
  const ms = parseStoredDecimal(dash < 0 ? id : id.slice(0, dash))
  const seq = dash < 0 ? 0 : parseStoredDecimal(id.slice(dash + 1))
  if (ms === undefined || seq === undefined) {
    throw new CorruptStateError(`${JSON.stringify(id)} is not a Redis stream id`)
  }
  return [ms, seq]
}

export function compareIds(a: string, b: string): number {
  const [am, as] = parseId(a)
  const [bm, bs] = parseId(b)
  return am !== bm ? Math.sign(am - bm) : Math.sign(as - bs)
}

/** The smallest id greater than `id`. */
export function nextId(id: string): string {
  const [ms, seq] = parseId(id)
  return `${ms}-${seq + 1}`
}

/** Wall-clock time (Redis's clock) at which the entry was added. */
export function idTimeMs(id: string): number {
  return parseId(id)[0]
}

export const ZERO_ID = '0-0'
