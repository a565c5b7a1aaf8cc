/**
 * The backup format of export and import: NDJSON, one doc per line,
 * `{"name":"<doc name>","update":"<base64 of the doc's full state as one Yjs update>"}`.
 * Pure codecs, a bounded line splitter, and paging over a store's doc names.
 */
import { isUtf8 } from 'node:buffer'
import { docNameProblem } from '../doc-name.js'
import { validateUpdate } from '../protocol/messages.js'
import { isEmptyUpdate } from '../protocol/update-format.js'
import type { DocStore } from '../storage/doc-store.js'

/** One doc of a backup. */
export interface BackupDoc {
  readonly name: string
  readonly update: Uint8Array
}

/** The NDJSON line for one doc, newline included. */
export function encodeBackupLine(doc: BackupDoc): string {
  const update = Buffer.from(doc.update.buffer, doc.update.byteOffset, doc.update.byteLength).toString(
    'base64',
  )
  return `${JSON.stringify({ name: doc.name, update })}\n`
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Parses and fully validates one line; never throws. */
export function decodeBackupLine(line: string): { ok: true; doc: BackupDoc } | { ok: false; error: string } {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false, error: 'not valid JSON' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, error: 'not a JSON object' }
  const { name, update } = value as Record<string, unknown>
  if (typeof name !== 'string') return { ok: false, error: 'name must be a string' }
  const problem = docNameProblem(name)
  if (problem) return { ok: false, error: `name: ${problem}` }
  if (typeof update !== 'string' || update.length % 4 !== 0 || !BASE64.test(update))
    return { ok: false, error: 'update must be base64' }
  const bytes = Buffer.from(update, 'base64')
  // Buffer drops the unused bits of the last character ("AB==" reads as "AA=="): a line
  // that does not re-encode to itself was not written by export and may hide junk.
  if (bytes.toString('base64') !== update)
    return { ok: false, error: 'update must be base64 (its unused bits set)' }
  const decoded = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const invalid = validateUpdate(decoded)
  if (invalid) return { ok: false, error: `update is not a valid Yjs update: ${invalid}` }
  return { ok: true, doc: { name, update: decoded } }
}

/** A line longer than the limit; the import stops there. */
export class LineTooLongError extends Error {
  override name = 'LineTooLongError'
}

/**
 * A line that is not UTF-8; the import stops there. Decoding it leniently would turn a bad
 * byte in a doc name into U+FFFD and import the doc under a name nobody wrote.
 */
export class LineNotUtf8Error extends Error {
  override name = 'LineNotUtf8Error'
  constructor(readonly line: number) {
    super(`line ${line} is not valid UTF-8`)
  }
}

/**
 * Splits a byte stream into lines (LF or CRLF), holding at most `maxLineBytes` of a line in
 * memory. Blank lines are skipped but counted, so line numbers match what an editor shows.
 * @throws LineTooLongError, LineNotUtf8Error
 */
export async function* ndjsonLines(
  chunks: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
): AsyncGenerator<{ line: string; number: number }> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let number = 0
  const take = (tail: Buffer) => {
    const whole = pending.length === 0 ? tail : Buffer.concat([...pending, tail])
    pending = []
    pendingBytes = 0
    number += 1
    if (!isUtf8(whole)) throw new LineNotUtf8Error(number)
    const text = whole.toString('utf8')
    return text.endsWith('\r') ? text.slice(0, -1) : text
  }
  for await (const raw of chunks) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10)) {
      if (pendingBytes + newline > maxLineBytes)
        throw new LineTooLongError(`line ${number + 1} is longer than ${maxLineBytes} bytes`)
      const line = take(chunk.subarray(0, newline))
      chunk = chunk.subarray(newline + 1)
      if (line.trim() !== '') yield { line, number }
    }
    pendingBytes += chunk.byteLength
    if (pendingBytes > maxLineBytes)
      throw new LineTooLongError(`line ${number + 1} is longer than ${maxLineBytes} bytes`)
    if (chunk.byteLength > 0) pending.push(chunk)
  }
  if (pendingBytes > 0) {
    const line = take(Buffer.alloc(0))
    if (line.trim() !== '') yield { line, number }
  }
}

/** Thrown by an import's `apply` to refuse one doc as bad input (e.g. past MAX_DOC_BYTES). */
export class DocRefusedError extends Error {
  override name = 'DocRefusedError'
}

/** Where an import stopped, and what it had done by then. */
export class ImportStoppedError extends Error {
  override name = 'ImportStoppedError'
  constructor(
    readonly line: number,
    readonly imported: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason} (${imported} docs imported before it)`)
  }
}

/**
 * Imports NDJSON lines doc by doc through `apply`, in order. Stops at the first bad line.
 * @returns how many docs were imported
 * @throws ImportStoppedError naming the line, the reason and how many were imported before it
 */
export async function importBackup(
  chunks: AsyncIterable<Buffer | string>,
  options: { maxLineBytes: number; apply: (doc: BackupDoc) => Promise<void> | void },
): Promise<number> {
  let imported = 0
  let lastLine = 0
  try {
    for await (const { line, number } of ndjsonLines(chunks, options.maxLineBytes)) {
      lastLine = number
      const decoded = decodeBackupLine(line)
      if (!decoded.ok) throw new ImportStoppedError(number, imported, decoded.error)
      // An empty update changes no doc: counted as imported, but no doc is created for it.
      if (isEmptyUpdate(decoded.doc.update)) {
        imported += 1
        continue
      }
      try {
        await options.apply(decoded.doc)
      } catch (error) {
        if (error instanceof DocRefusedError) throw new ImportStoppedError(number, imported, error.message)
        throw error
      }
      imported += 1
    }
  } catch (error) {
    if (error instanceof ImportStoppedError) throw error
    if (error instanceof LineTooLongError) throw new ImportStoppedError(lastLine + 1, imported, error.message)
    if (error instanceof LineNotUtf8Error)
      throw new ImportStoppedError(error.line, imported, 'not valid UTF-8')
    throw error
  }
  return imported
}

/** Names read per store iterator. */
const PAGE_DOCS = 100

/** The docs a store holds, paged: each page comes from its own short-lived iterator. */
export async function* storedDocNames(
  store: Pick<DocStore, 'listDocs'>,
  prefix: string | undefined,
): AsyncGenerator<string> {
  let after: string | undefined
  for (;;) {
    const page: string[] = []
    for await (const stats of store.listDocs({
      ...(prefix !== undefined ? { prefix } : {}),
      ...(after !== undefined ? { after } : {}),
    })) {
      page.push(stats.docName)
      if (page.length === PAGE_DOCS) break
    }
    yield* page
    if (page.length < PAGE_DOCS) return
    after = page.at(-1)
  }
}

/** The most bytes one import line may hold: a base64 doc of MAX_DOC_BYTES plus its JSON. */
export function maxImportLineBytes(maxDocBytes: number): number {
  return Math.ceil(maxDocBytes / 3) * 4 + 4096
}

/** Docs read ahead of the one being written: loads overlap, memory stays at a few docs. */
export const READ_AHEAD_DOCS = 8

/**
 * Maps `items` through `read` with up to `window` reads in flight, yielding results in input
 * order. Loading a doc (merging its log on the worker pool) dominates an export; overlapping
 * loads keeps the workers busy while a line is written.
 */
export async function* readAhead<T, R>(
  items: AsyncIterable<T>,
  read: (item: T) => Promise<R>,
  window = READ_AHEAD_DOCS,
): AsyncGenerator<R> {
  const queue: Promise<R>[] = []
  for await (const item of items) {
    const result = read(item)
    // Rejections surface when the result's turn comes (await below); this only keeps a read
    // that fails while an earlier one is awaited from counting as unhandled.
    result.catch(() => undefined)
    queue.push(result)
    if (queue.length >= window) yield await queue.shift()!
  }
  while (queue.length > 0) yield await queue.shift()!
}
