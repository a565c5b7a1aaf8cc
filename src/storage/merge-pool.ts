/**
 * Runs merges inline when they are small (a worker round-trip costs more than the merge)
 * and on a worker-thread pool when they are big, keeping the event loop responsive.
 */
import { Piscina } from 'piscina'
import { type CompactedDoc, compactUpdates, mergeStoredUpdates } from './merge.js'
import type { MergeTask } from './merge-worker.js'

/** Below this many input bytes the work is done on the calling thread. */
const INLINE_LIMIT_BYTES = 256 * 1024

export class MergePool {
  private pool: Piscina | undefined

  constructor(private readonly threads = 1) {}

  private getPool(): Piscina {
    if (!this.pool) {
      // Under tsx/vitest this module is TypeScript; the worker then needs tsx's loader too.
      const runningTs = import.meta.url.endsWith('.ts')
      this.pool = new Piscina({
        filename: new URL(runningTs ? './merge-worker.ts' : './merge-worker.js', import.meta.url).href,
        minThreads: 0,
        maxThreads: this.threads,
        idleTimeout: 30_000,
        execArgv: runningTs ? ['--import', 'tsx'] : [],
      })
    }
    return this.pool
  }

  async merge(updates: Uint8Array[]): Promise<Uint8Array> {
    if (totalBytes(updates) < INLINE_LIMIT_BYTES) return mergeStoredUpdates(updates)
    const task: MergeTask = { op: 'merge', updates }
    return (await this.getPool().run(task)) as Uint8Array
  }

  async compact(updates: Uint8Array[], gc: boolean): Promise<CompactedDoc> {
    if (totalBytes(updates) < INLINE_LIMIT_BYTES) return compactUpdates(updates, gc)
    const task: MergeTask = { op: 'compact', updates, gc }
    return (await this.getPool().run(task)) as CompactedDoc
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
