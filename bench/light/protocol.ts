/** Messages between the harness and a light load-generator process (over Node IPC). */

/** y-websocket framing, Hocuspocus framing (doc name first), or the bare relay floor (no sync). */
export type LightProtocol = 'y-websocket' | 'hocuspocus' | 'relay'

export interface LightOpenParams {
  url: string
  protocol: LightProtocol
  rooms: string[]
  /** Writers also read: every client of a room receives every other writer's edits. */
  writersPerRoom: number
  readersPerRoom: number
  /** Writers get client ids clientBase, clientBase + 1, ... (unique across processes and steps). */
  clientBase: number
  timeoutMs: number
}
export interface LightOpenResult {
  connected: number
  totalMs: number
  /** Per-client connect-to-synced times (ms), for percentiles across processes. */
  times: number[]
}

export interface LightRunParams {
  /** Edits per second across this process's writers. */
  rate: number
  warmupMs: number
  durationMs: number
  drainMs: number
}
export interface LightRunResult {
  /** hdr histogram of delivery latency (µs), compressed base64. */
  hist: string
  sent: number
  expected: number
  delivered: number
  /** Edits sent inside the measured window. */
  sentInWindow: number
  windowS: number
  loadgenCpuS: number
  /** Per writer: [client id, edits sent so far (= its next clock), highest clock delivered + 1]. */
  writers: Array<[number, number, number]>
}

export interface LightProbeParams {
  url: string
  protocol: LightProtocol
  rooms: string[]
  timeoutMs: number
}
/** The server's state vector entries of every probed room, concatenated. */
export interface LightProbeResult {
  sv: Array<[number, number]>
}

export interface LightReconnectResult {
  total: number
  resynced: number
  totalMs: number
  times: number[]
}

export interface BulkPushParams {
  url: string
  protocol: LightProtocol
  room: string
  /** Text to push, in chunks of chunkChars inserted at random chunk boundaries. */
  chars: number
  chunkChars: number
  /** Largest message sent (keep it below the server's MAX_MESSAGE_BYTES). */
  maxMessageBytes: number
  client: number
  timeoutMs: number
}
export interface BulkPushResult {
  messages: number
  bytes: number
  /** The writer's final clock: a client holding it holds the whole doc. */
  clock: number
  /** Connect until the last frame is written to the socket. */
  sendMs: number
  /** Connect until a second client (joined before the push) has received all of it. */
  heldMs: number
}
export interface BulkSyncParams {
  url: string
  protocol: LightProtocol
  room: string
  client: number
  clock: number
  timeoutMs: number
}

export interface LightMethods {
  open: [LightOpenParams, LightOpenResult]
  run: [LightRunParams, LightRunResult]
  probe: [LightProbeParams, LightProbeResult]
  reconnect: [{ timeoutMs: number }, LightReconnectResult]
  closeAll: [Record<string, never>, { closed: number }]
  /** Ends a running `run` window now (its result then covers the shorter window). */
  stopRun: [Record<string, never>, { stopped: boolean }]
  bulkPush: [BulkPushParams, BulkPushResult]
  /** A fresh client joins and times connect -> holding the whole doc. */
  bulkSync: [BulkSyncParams, { ms: number }]
}
