/**
 * What rooms, the admin surface and the compaction CLI need from durable storage. The room
 * layer depends on this interface only, never on LevelDB.
 */
export interface LoadedDoc {
  /** Snapshot and log merged into one update (empty doc: an empty update). */
  readonly update: Uint8Array
  /**
   * The state vector of `update`, when the store had it at no cost (it merged a log and read
   * it off the merged doc); undefined otherwise: decode it from `update` if needed.
   */
  readonly stateVector?: Uint8Array
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

/**
 * The encoded state of a doc as it is open on this instance right now, or undefined when it
 * is not open here (issue 16: compaction from the live document). The store calls it
 * synchronously (or a promise of it, asked for synchronously: the state it settles with must
 * hold everything appended before the call) when it compacts an open doc and replaces the log entries stored so far with
 * the result, so the state MUST contain every update of that doc passed to `append()` before
 * the call and everything `load()` returned for it — which holds for a room that loaded the
 * doc through this store and appends every change it applies (room.ts fanOut). Answer
 * undefined for a doc still loading, unloading or destroyed, or whose in-memory doc is not
 * gc'd the way a compaction would be (`new Y.Doc({ gc: true })`); the store then compacts
 * from the log. Typically `(name) => { const room = registry.get(name); return room &&
 * Y.encodeStateAsUpdate(room.doc) }`.
 */
export type LiveStateSource = (docName: string) => Uint8Array | Promise<Uint8Array | undefined> | undefined

/**
 * Called before the store writes a batch of updates of `docs` (and before it commits a
 * compaction of one doc): resolves once whatever must be on disk before those updates is
 * there. The relay uses it to mark docs whose updates Redis has not confirmed yet, so an
 * update never reaches this disk without either being in Redis or being marked owed (a
 * process killed while its XADD hung would otherwise keep the update here alone). It must
 * not reject; `undefined`: nothing to wait for.
 */
export type StoreWriteGuard = (docs: ReadonlySet<string>) => Promise<void> | undefined

export interface DocStore {
  open(): Promise<void>
  readonly isOpen: boolean
  load(docName: string): Promise<LoadedDoc>
  /** Queues an update; it is on disk within the flush interval (or at the next flush()). */
  append(docName: string, update: Uint8Array): void
  /** Writes everything queued so far, for every doc. */
  flush(): Promise<void>
  /**
   * Merges a doc's log into its snapshot: from the live document when the LiveStateSource
   * has it, else from the log, verified. Entries appended meanwhile stay. The merged entries
   * are deleted only after the snapshot is written (in the same batch unless it is big).
   */
  compact(docName: string, options?: CompactionOptions): Promise<CompactionResult>
  /** Where compaction of open docs takes their state from (undefined: always the log). */
  useLiveState(source: LiveStateSource | undefined): void
  /** What runs before each write of updates (see StoreWriteGuard); optional for custom stores. */
  useWriteGuard?(guard: StoreWriteGuard | undefined): void
  /**
   * Stats of every stored doc, in UTF-8 name order, streamed (never the whole DB in memory);
   * `after` resumes after that name.
   */
  listDocs(options?: { prefix?: string; after?: string }): AsyncIterable<DocStats>
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
  /** Idempotent: every call returns the same promise, resolved once really closed. */
  close(): Promise<void>
}

export interface StoreObserver {
  onFlush?(durationSeconds: number, entries: number, bytes: number): void
  onFlushError?(error: unknown): void
  onCompaction?(result: CompactionResult): void
  onCompactionError?(docName: string, error: unknown): void
}
