/**
 * Reads a LevelDB store written by the reference server's persistence (y-leveldb, used by
 * y-websocket's and @y/websocket-server's `YPERSISTENCE`), for `import --from-y-leveldb`.
 *
 * y-leveldb's key format (its source, `keyEncoding`): a key is a tuple, each element written
 * as a tag byte then the value — 0: a lib0 var-string (varuint length + UTF-8), 1: a uint32
 * big-endian. The keys that matter:
 *   ['v1', <doc>, 'update', <clock>]   one stored Yjs update (values: raw update bytes)
 *   ['v1', <doc>, 'meta', <key>]       metadata (not migrated: not part of the document)
 *   ['v1_sv', <doc>]                   the doc's state vector (derived; not needed)
 * A doc's updates are adjacent in key order, so one pass over the store yields doc after doc,
 * each merged into one update. Nothing is written to the source directory.
 */
import { Level } from 'level'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { docNameProblem } from '../doc-name.js'
import { storeOpenError } from './open-error.js'
import { newServerDoc } from './server-doc.js'

/** One doc of the source store, merged. */
export interface MigratedDoc {
  readonly name: string
  readonly update: Uint8Array
  /** How many y-leveldb update entries it was merged from. */
  readonly entries: number
}

const TAG_STRING = 0
const TAG_UINT32 = 1

/** Decodes a y-leveldb key; undefined when it is not in that format. */
export function decodeYLeveldbKey(key: Uint8Array): (string | number)[] | undefined {
  const decoder = decoding.createDecoder(key)
  const parts: (string | number)[] = []
  try {
    while (decoding.hasContent(decoder)) {
      const tag = decoding.readUint8(decoder)
      if (tag === TAG_STRING) parts.push(decoding.readVarString(decoder))
      else if (tag === TAG_UINT32) {
        const bytes = decoding.readUint8Array(decoder, 4)
        parts.push(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0)
      } else return undefined
    }
  } catch {
    return undefined // truncated key: not y-leveldb's; the caller skips and counts it
  }
  return parts
}

/**
 * Every doc of a y-leveldb store, in key order, each merged into one update.
 * @throws StoreLockedError when a running server holds the directory; Error when it is no store
 */
export async function* readYLeveldb(
  location: string,
  onSkipped: (reason: string) => void = () => undefined,
): AsyncGenerator<MigratedDoc> {
  const db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' })
  try {
    await db.open({ createIfMissing: false })
  } catch (error) {
    // Same rules as our own store: only LevelDB's lock code means locked (open-error.ts).
    throw storeOpenError(location, error, 'the y-leveldb store')
  }
  try {
    let current: { name: string; doc: Y.Doc; entries: number } | undefined
    let refused: string | undefined
    const finish = (): MigratedDoc | undefined => {
      if (!current) return undefined
      const done = {
        name: current.name,
        update: Y.encodeStateAsUpdate(current.doc),
        entries: current.entries,
      }
      current.doc.destroy()
      current = undefined
      return done
    }
    for await (const [key, value] of db.iterator()) {
      const parts = decodeYLeveldbKey(key)
      if (!parts) {
        onSkipped('a key not in y-leveldb format')
        continue
      }
      // Only update entries carry document content; state vectors and metadata are derived.
      if (parts[0] !== 'v1' || parts[2] !== 'update' || typeof parts[1] !== 'string') continue
      const name = parts[1]
      if (name === refused) continue
      if (current?.name !== name) {
        const done = finish()
        if (done) yield done
        const problem = docNameProblem(name)
        if (problem) {
          onSkipped(`doc ${JSON.stringify(name)}: ${problem}`)
          refused = name
          continue
        }
        // A server doc: what we import is what the reference server stored, without formatting
        // deletes of our own (storage/server-doc.ts).
        current = { name, doc: newServerDoc({ gc: false }), entries: 0 }
      }
      try {
        Y.applyUpdate(current.doc, value)
        current.entries += 1
      } catch (error) {
        onSkipped(`doc ${JSON.stringify(name)}: an update that does not apply (${String(error)})`)
      }
    }
    const done = finish()
    if (done) yield done
  } finally {
    await db.close()
  }
}
