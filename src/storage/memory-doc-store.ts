/**
 * DocStore in memory: the core (base-doc-store.ts) over a Map. For tests, examples and
 * embedders that keep documents elsewhere (onLoadDocument / onStoreDocument) and want no
 * disk. Data lives in a MemoryDatabase, which outlives the store: open a new MemoryDocStore
 * on the same database to "restart". Like a LevelDB directory, a database is held by one
 * open store at a time (a second open throws StoreLockedError).
 */

import { BaseDocStore, type DocStoreOptions } from './base-doc-store.js'
import type { DocStats } from './doc-store.js'
import { StoreLockedError } from './open-error.js'
import type { ListOptions, LogWrite, StoreBackend, StoredDoc, StoredLogEntry } from './store-backend.js'

interface MemoryDoc {
  snapshot: Uint8Array | undefined
  /** id -> value, ids `<open>:<seq>` (see store-backend.ts on sequence numbers). */
  readonly log: Map<string, Uint8Array>
}

/** The data of one memory store, kept across its opens. */
export class MemoryDatabase {
  readonly docs = new Map<string, MemoryDoc>()
  readonly generations = new Map<string, number>()
  opens = 0
  held = false
}

class MemoryBackend implements StoreBackend {
  private open_ = 0
  private holding = false

  constructor(
    private readonly data: MemoryDatabase,
    readonly location: string,
  ) {}

  async open(): Promise<void> {
    if (this.data.held) throw new StoreLockedError(`${this.location} is in use by another store`)
    this.data.held = true
    this.holding = true
    this.data.opens += 1
    this.open_ = this.data.opens
  }

  async close(): Promise<void> {
    if (this.holding) this.data.held = false
    this.holding = false
  }

  async readDoc(docName: string): Promise<StoredDoc> {
    const doc = this.data.docs.get(docName)
    if (!doc) return { snapshot: undefined, log: [] }
    const ours = `${this.open_}:`
    const log: StoredLogEntry[] = []
    for (const [id, value] of doc.log) {
      log.push({ id, value, seq: id.startsWith(ours) ? Number(id.slice(ours.length)) : undefined })
    }
    return { snapshot: doc.snapshot, log }
  }

  async writeBatch(entries: readonly LogWrite[]): Promise<void> {
    for (const entry of entries) {
      // Copied, as a database would: the caller may reuse its buffer.
      this.doc(entry.docName).log.set(`${this.open_}:${entry.seq}`, entry.value.slice())
    }
  }

  async commitCompaction(
    docName: string,
    snapshot: Uint8Array,
    merged: readonly StoredLogEntry[],
  ): Promise<void> {
    const doc = this.doc(docName)
    doc.snapshot = snapshot.slice()
    for (const entry of merged) doc.log.delete(entry.id)
  }

  async *listDocs(options: ListOptions): AsyncIterable<DocStats> {
    const prefix = options.prefix ?? ''
    const after = options.after
    const names = [...this.data.docs.keys()]
      .filter((name) => name.startsWith(prefix) && (after === undefined || utf8Compare(name, after) > 0))
      .sort(utf8Compare)
    for (const docName of names) {
      const doc = this.data.docs.get(docName)
      if (!doc || (doc.snapshot === undefined && doc.log.size === 0)) continue
      let logBytes = 0
      for (const value of doc.log.values()) logBytes += value.byteLength
      yield { docName, snapshotBytes: doc.snapshot?.byteLength ?? 0, logEntries: doc.log.size, logBytes }
    }
  }

  async deleteDoc(docName: string, generation: number): Promise<void> {
    this.data.docs.delete(docName)
    this.data.generations.set(docName, generation)
  }

  async generation(docName: string): Promise<number> {
    return this.data.generations.get(docName) ?? 0
  }

  private doc(docName: string): MemoryDoc {
    let doc = this.data.docs.get(docName)
    if (!doc) {
      doc = { snapshot: undefined, log: new Map() }
      this.data.docs.set(docName, doc)
    }
    return doc
  }
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export class MemoryDocStore extends BaseDocStore {
  constructor(
    readonly database: MemoryDatabase = new MemoryDatabase(),
    options: DocStoreOptions = {},
  ) {
    super(new MemoryBackend(database, 'memory'), options)
  }
}
