/** The Redis relay's settings (tests shrink them; production uses the defaults). */
export interface RedisRelayTuning {
  /** Compact a doc's stream into its snapshot once this many entries were seen. */
  readonly compactEntries: number
  /** Entries younger than this are never trimmed (live readers are never outrun). */
  readonly trimMarginMs: number
  readonly blockMs: number
  readonly readCount: number
  /** Redis Cluster: every followed stream is read at least this often (lost doorbells). */
  readonly sweepMs: number
  readonly lockMs: number
  /** Control stream length cap (approximate). */
  readonly controlMaxLen: number
  /**
   * Deadline of every call on the command connection. Past it the call counts as failed (its
   * rooms resync) and the connection is replaced: a dropped or black-holed command must not
   * stop publishing (issue 10.3).
   */
  readonly commandTimeoutMs: number
  /** How often the Redis data generation is checked (a FLUSHALL closes no connection). */
  readonly generationCheckMs: number
  /** Stored docs per batch when re-publishing after Redis lost its data. */
  readonly republishBatch: number
}

export const DEFAULT_RELAY_TUNING: RedisRelayTuning = {
  compactEntries: 500,
  trimMarginMs: 60_000,
  blockMs: 1000,
  readCount: 1000,
  sweepMs: 2000,
  lockMs: 10_000,
  controlMaxLen: 1000,
  commandTimeoutMs: 5000,
  generationCheckMs: 5000,
  republishBatch: 100,
}
