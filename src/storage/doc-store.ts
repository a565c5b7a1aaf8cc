/**
 * What rooms, the admin surface and the compaction CLI need from durable storage. The room
 * layer depends on this interface only, never on LevelDB.
 */
export interface LoadedDoc {
  /** Snapshot and log merged into one update (empty doc: an empty update). */
  readonly update: Uint8Array
  readonly snapshotBytes: number
  readonly logEntries: number
  readonly logBytes: number
}

export interface CompactionOptions {
  /** Garbage-collect deleted content (default true). */
  readonly gc?: boolean
  /** Compute and verify, but write nothing. */
  readonly dryRun?: boolean
}

export interface CompactionResult {
  readonly docName: string
  /** false: nothing to merge (no log entries). */
  readonly compacted: boolean
  readonly logEntriesMerged: number
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly durationMs: number
}

export interface DocStats {
  readonly docName: string
  readonly snapshotBytes: number
  readonly logEntries: number
  readonly logBytes: number
}

export interface DocStore {
  open(): Promise<void>
  readonly isOpen: boolean
  load(docName: string): Promise<LoadedDoc>
  /** Queues an update; it is on disk within the flush interval (or at the next flush()). */
  append(docName: string, update: Uint8Array): void
  /** Writes everything queued so far, for every doc. */
  flush(): Promise<void>
  /** Merges a doc's log into its snapshot in one atomic batch, after verifying it. */
  compact(docName: string, options?: CompactionOptions): Promise<CompactionResult>
  /** Stats of every stored doc, in name order, streamed (never the whole DB in memory). */
  listDocs(options?: { prefix?: string }): AsyncIterable<DocStats>
  /** Verifies every stored entry of a doc decodes; returns the problem, or undefined. */
  verify(docName: string): Promise<string | undefined>
  /** The doc is no longer open here: drop what is cached about it (after a flush). */
  evict(docName: string): void
  /**
   * Removes every stored entry of a doc (snapshot and log, queued writes included) in one
   * atomic batch that also records `generation` as the doc's deletion generation here.
   * The caller has unloaded the doc's room first.
   */
  deleteDoc(docName: string, generation: number): Promise<void>
  /** The doc's deletion generation as last recorded here (0: never deleted). */
  generation(docName: string): Promise<number>
  close(): Promise<void>
}

export interface StoreObserver {
  onFlush?(durationSeconds: number, entries: number, bytes: number): void
  onFlushError?(error: unknown): void
  onCompaction?(result: CompactionResult): void
  onCompactionError?(docName: string, error: unknown): void
}
