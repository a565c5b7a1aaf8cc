/**
 * Where a compaction run works: a stopped instance's LevelDB directory (DirTarget, via
 * LevelDocStore) or a running instance (AdminTarget, via its /admin endpoints). The command
 * only sees this interface, so both paths share the loop, progress and summary.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type Adapters, offlineAdapters } from '../adapters.js'
import { AdminRequestError, TargetUnavailableError, UsageError } from '../errors.js'
import { CheckpointStore, type HistoryPruneResult } from '../history/checkpoint-store.js'
import type { CompactionOptions, CompactionResult, DocStats } from '../storage/doc-store.js'
import type { AdminSource } from './compact-args.js'

export interface CompactionTarget {
  /** For messages and the summary: the directory or the URL. */
  readonly description: string
  /** Stats of the stored docs under `prefix`, in name order, streamed. */
  docs(prefix: string | undefined): AsyncIterable<DocStats>
  compact(docName: string, options: Required<CompactionOptions>): Promise<CompactionResult>
  /** The problem with a doc's stored entries, or undefined when they decode and merge. */
  verify(docName: string): Promise<string | undefined>
  /** Bytes of the store's files on disk, or undefined when this target cannot see them. */
  diskBytes(): Promise<number | undefined>
  /** Makes the disk give back what compactions deleted (see LevelDocStore.reclaimSpace). */
  reclaimSpace(): Promise<void>
  /**
   * The doc's version history: pruned to `keep` checkpoints when given (counted only, in a
   * dry run), and what is left. Checkpoints are full states in their own key range, so
   * compaction itself never touches them.
   */
  history(docName: string, keep: number | undefined, dryRun: boolean): Promise<HistoryPruneResult>
  close(): Promise<void>
}

/** The target cannot be used at all (unreachable, token refused): stop the run, not just one doc. */
export { TargetUnavailableError }

/** Docs per listing iterator: short-lived iterators let LevelDB reclaim compacted-away entries during the run. */
const LISTING_PAGE_DOCS = 256

export class DirTarget implements CompactionTarget {
  private readonly adapters: Adapters
  private readonly store: Adapters['store']

  constructor(
    readonly description: string,
    readOnly: boolean,
  ) {
    // The CLI decides what to compact; the store must not schedule compactions of its own.
    this.adapters = offlineAdapters(description, { readOnly, autoCompact: false })
    this.store = this.adapters.store
  }

  /** Throws StoreLockedError when a running instance holds the directory. */
  open(): Promise<void> {
    return this.store.open()
  }

  async *docs(prefix: string | undefined): AsyncIterable<DocStats> {
    let after: string | undefined
    for (;;) {
      let inPage = 0
      for await (const stats of this.store.listDocs({
        ...(prefix !== undefined ? { prefix } : {}),
        ...(after !== undefined ? { after } : {}),
      })) {
        yield stats
        after = stats.docName
        inPage += 1
        if (inPage === LISTING_PAGE_DOCS) break
      }
      if (inPage < LISTING_PAGE_DOCS) return
    }
  }

  compact(docName: string, options: Required<CompactionOptions>): Promise<CompactionResult> {
    return this.store.compact(docName, options)
  }

  verify(docName: string): Promise<string | undefined> {
    return this.store.verify(docName)
  }

  /** LevelDB keeps its files in one flat directory; sub-directories are not ours. */
  async diskBytes(): Promise<number> {
    const entries = await readdir(this.description, { withFileTypes: true })
    const sizes = await Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async (entry) => (await stat(join(this.description, entry.name))).size),
    )
    return sizes.reduce((sum, size) => sum + size, 0)
  }

  reclaimSpace(): Promise<void> {
    return this.store.reclaimSpace()
  }

  history(docName: string, keep: number | undefined, dryRun: boolean): Promise<HistoryPruneResult> {
    // Pruning deletes keys; compacting their range right away is what gives the disk back.
    return new CheckpointStore(this.store.database).pruneAndMeasure(docName, keep, {
      dryRun,
      freeDisk: !dryRun && keep !== undefined,
    })
  }

  close(): Promise<void> {
    return this.adapters.close()
  }
}

const REQUEST_TIMEOUT_MS = 10 * 60_000

export class AdminTarget implements CompactionTarget {
  readonly description: string

  constructor(private readonly source: AdminSource) {
    this.description = source.url
  }

  /**
   * Pages through /admin/stored-docs (`after` = the last name of the previous page), so
   * neither the instance nor this process ever holds the whole listing. Each pass walks the
   * store afresh; a doc created mid-run is compacted if its name sorts after the cursor.
   */
  async *docs(prefix: string | undefined): AsyncIterable<DocStats> {
    let after: string | undefined
    for (;;) {
      const query = new URLSearchParams({ limit: String(LISTING_PAGE_DOCS) })
      if (prefix !== undefined) query.set('prefix', prefix)
      if (after !== undefined) query.set('after', after)
      const body = (await this.request('GET', `/admin/stored-docs?${query}`)) as {
        docs?: DocStats[]
        next?: string | null
      }
      if (!Array.isArray(body.docs)) {
        throw new TargetUnavailableError('unexpected answer from /admin/stored-docs')
      }
      yield* body.docs
      // An instance from before paging answers without `next`: its list was complete.
      if (typeof body.next !== 'string') return
      after = body.next
    }
  }

  async compact(docName: string, options: Required<CompactionOptions>): Promise<CompactionResult> {
    const body = (await this.request('POST', '/admin/compact', {
      doc: docName,
      gc: options.gc,
      dryRun: options.dryRun,
    })) as { results?: CompactionResult[] }
    const result = body.results?.[0]
    if (!result) throw new AdminRequestError('the instance answered /admin/compact without a result')
    return result
  }

  verify(): Promise<string | undefined> {
    return Promise.reject(new UsageError('--verify needs --data-dir'))
  }

  /** The instance's directory is on another machine, as far as we know. */
  async diskBytes(): Promise<undefined> {
    return undefined
  }

  /** The instance's own LevelDB compacts while it keeps writing; nothing to ask for here. */
  async reclaimSpace(): Promise<void> {}

  async history(docName: string, keep: number | undefined, dryRun: boolean): Promise<HistoryPruneResult> {
    const path = `/admin/docs/${encodeURIComponent(docName)}/versions/prune`
    const body = (await this.request('POST', path, { ...(keep !== undefined ? { keep } : {}), dryRun })) as {
      kept?: HistoryPruneResult['kept']
      pruned?: HistoryPruneResult['pruned']
    }
    if (!body.kept || !body.pruned)
      throw new AdminRequestError(`the instance answered ${path} without a result`)
    return { kept: body.kept, pruned: body.pruned }
  }

  async close(): Promise<void> {}

  private async request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(`${this.source.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.source.adminToken}`,
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      throw new TargetUnavailableError(
        `cannot reach ${this.source.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      )
    }
    const text = await response.text()
    let body: unknown
    try {
      body = text === '' ? {} : JSON.parse(text)
    } catch {
      body = { error: text.slice(0, 200) }
    }
    if (response.ok) return body
    const why = (body as { error?: unknown }).error ?? response.statusText
    if (response.status === 401)
      throw new TargetUnavailableError(`${this.source.url} refused the admin token`)
    if (response.status === 404 && path.startsWith('/admin/stored-docs')) {
      throw new TargetUnavailableError(`${this.source.url} has no admin endpoint: ${String(why)}`)
    }
    // A 500 on one doc's compaction is that doc's failure (the instance logged why).
    const error = new AdminRequestError(
      `${method} ${path} answered ${response.status}: ${String(why)}`,
      body as Record<string, unknown>,
    )
    if (response.status >= 500 && method === 'POST') throw error
    throw new TargetUnavailableError(error.message)
  }
}
