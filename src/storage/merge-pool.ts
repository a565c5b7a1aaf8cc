/**
 * Runs merges inline when they are small (a worker round-trip costs more than the merge)
 * and on a worker-thread pool when they are big, keeping the event loop responsive.
 */
import { Piscina } from 'piscina'
import { type CompactedDoc, compactUpdates, loadStoredUpdates } from './merge.js'
import type { MergeTask, ValidationVerdict } from './merge-worker.js'

/**
 * Work this small is done on the calling thread: both bounds matter, since merge cost
 * grows with the number of updates as well as with their bytes.
 */
const INLINE_LIMIT_BYTES = 64 * 1024
const INLINE_LIMIT_UPDATES = 64

function runsInline(updates: readonly Uint8Array[]): boolean {
  return updates.length <= INLINE_LIMIT_UPDATES && totalBytes(updates) < INLINE_LIMIT_BYTES
}

/** Under tsx/vitest this module is TypeScript; the worker then needs tsx's loader too. */
const RUNNING_TS = import.meta.url.endsWith('.ts')

export class MergePool {
  private pool: Piscina | undefined

  constructor(private readonly threads = 1) {}

  private getPool(): Piscina {
    if (!this.pool) {
      this.pool = new Piscina({
        filename: new URL(RUNNING_TS ? './merge-worker.ts' : './merge-worker.js', import.meta.url).href,
        // Started on first use, not at boot: a worker starting beside a freshly restarted
        // server slowed its first syncs by ~90 ms (bench cold-load). Once started, compiled
        // builds keep one thread warm; under tsx (tests, dev) a start costs seconds of CPU
        // and idle threads are let go.
        minThreads: RUNNING_TS ? 0 : 1,
        maxThreads: this.threads,
        idleTimeout: 30_000,
        execArgv: RUNNING_TS ? ['--import', 'tsx'] : [],
      })
    }
    return this.pool
  }

  async merge(updates: Uint8Array[]): Promise<Uint8Array> {
    if (updates.length === 1) return updates[0]!
    if (runsInline(updates)) return loadStoredUpdates(updates)
    const task: MergeTask = { op: 'merge', updates }
    return (await this.getPool().run(task)) as Uint8Array
  }

  async compact(updates: Uint8Array[], gc: boolean): Promise<CompactedDoc> {
    if (runsInline(updates)) return compactUpdates(updates, gc)
    const task: MergeTask = { op: 'compact', updates, gc }
    return (await this.getPool().run(task)) as CompactedDoc
  }

  /** Validates one (big) client message in full on a worker thread. */
  async validateMessage(message: Uint8Array): Promise<ValidationVerdict> {
    const task: MergeTask = { op: 'validate', message }
    return (await this.getPool().run(task)) as ValidationVerdict
  }

  async close(): Promise<void> {
    const pool = this.pool
    this.pool = undefined
    await pool?.destroy()
  }
}

export function totalBytes(chunks: readonly Uint8Array[]): number {
  let sum = 0
  for (const chunk of chunks) sum += chunk.byteLength
  return sum
}
