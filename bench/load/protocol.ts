/** Messages between the harness and a load-generator worker (over Node IPC). */
import type { Protocol } from '../targets/target.js'
import type { LatencySummary } from './tracker.js'

export interface OpenParams {
  url: string
  protocol: Protocol
  rooms: string[]
  writersPerRoom: number
  readersPerRoom: number
  /** Typed edits pre-applied to the first client of each room (a loaded document). */
  seedEdits?: number
  timeoutMs: number
}
export interface OpenResult {
  connected: number
  totalMs: number
  connectP50: number
  connectP99: number
}

export interface TypeParams {
  /** Edits per second across all writers. */
  rate: number
  warmupMs: number
  durationMs: number
  /** Max wait after the window for in-flight deliveries. */
  drainMs: number
}
export interface TypeResult {
  latency: LatencySummary
  sent: number
  expected: number
  delivered: number
  /** Edits per second actually sent in the window (< rate when the generator lagged). */
  achievedRate: number
  /** CPU seconds the load generator used during the window. */
  loadgenCpuS: number
  windowS: number
}

export interface ReconnectResult {
  total: number
  resynced: number
  totalMs: number
  p50: number
  p99: number
  max: number
}

export interface PopulateParams {
  url: string
  protocol: Protocol
  room: string
  edits: number
  timeoutMs: number
}
export interface PopulateResult {
  writeMs: number
  length: number
  bytes: number
}

export interface ColdSyncParams {
  url: string
  protocol: Protocol
  room: string
  expectLength: number
  timeoutMs: number
}

export interface BigLoadParams {
  url: string
  protocol: Protocol
  room: string
  bytes: number
  timeoutMs: number
}
export interface BigLoadResult {
  pushMs: number
  syncMs: number
}

export interface Methods {
  open: [OpenParams, OpenResult]
  type: [TypeParams, TypeResult]
  reconnect: [{ timeoutMs: number }, ReconnectResult]
  closeAll: [Record<string, never>, { closed: number }]
  populate: [PopulateParams, PopulateResult]
  coldSync: [ColdSyncParams, { ms: number }]
  bigPrepare: [{ bytes: number }, { length: number }]
  bigLoad: [BigLoadParams, BigLoadResult]
}
export type Method = keyof Methods

export interface Request {
  id: number
  method: Method
  params: unknown
}
export type Reply =
  | { id: number; result: unknown }
  | { id: number; error: string }
  | { event: 'measure-start' | 'measure-end' }
