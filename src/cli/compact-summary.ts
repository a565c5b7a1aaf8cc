/**
 * What a compaction (or verify) run did, accumulated doc by doc, and its two renderings: a
 * table for people and a JSON object for scripts. Pure: no I/O, no clocks.
 */
import type { HistoryPruneResult } from '../history/checkpoint-store.js'
import type { CompactionResult } from '../storage/doc-store.js'

export type RunMode = 'compact' | 'dry-run' | 'verify'

/** Failures/broken docs listed by name; past this many only the count grows (bounded memory). */
export const MAX_LISTED_PROBLEMS = 1000

export interface DocProblem {
  readonly doc: string
  readonly problem: string
}

export interface SummaryReport {
  readonly mode: RunMode
  readonly target: string
  readonly gc: boolean
  readonly interrupted: boolean
  readonly docsScanned: number
  readonly docsCompacted: number
  readonly docsSkipped: number
  readonly docsFailed: number
  readonly docsBroken: number
  readonly logEntriesMerged: number
  /** Log bytes that went into compactions (the throughput numerator). */
  readonly logBytesCompacted: number
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly bytesSaved: number
  /** Bytes of the data directory's files before the run and after it (--data-dir only, else null). */
  readonly diskBytesBefore: number | null
  readonly diskBytesAfter: number | null
  readonly durationMs: number
  /** MB (10^6 bytes) of log compacted per second. */
  readonly throughputMBps: number
  readonly docsPerSecond: number
  readonly failures: readonly DocProblem[]
  readonly broken: readonly DocProblem[]
  /** Problems beyond MAX_LISTED_PROBLEMS, counted but not named. */
  readonly problemsNotListed: number
  /** Version history left after the run (checkpoints are full states; docs/history.md). */
  readonly historyVersions: number
  readonly historyBytes: number
  /** Removed by --history-keep (or that would be, in a dry run). */
  readonly historyVersionsPruned: number
  readonly historyBytesPruned: number
}

export class CompactSummary {
  private docsScanned = 0
  private docsCompacted = 0
  private docsSkipped = 0
  private docsFailed = 0
  private docsBroken = 0
  private logEntriesMerged = 0
  private logBytesCompacted = 0
  private bytesBefore = 0
  private bytesAfter = 0
  private readonly failures: DocProblem[] = []
  private readonly broken: DocProblem[] = []
  private problemsNotListed = 0
  private diskBytesBefore: number | null = null
  private diskBytesAfter: number | null = null
  private historyVersions = 0
  private historyBytes = 0
  private historyVersionsPruned = 0
  private historyBytesPruned = 0

  constructor(
    private readonly mode: RunMode,
    private readonly target: string,
    private readonly gc: boolean,
  ) {}

  /** A doc went through compaction (or a dry run of it); `logBytes` is its log's size. */
  compacted(result: CompactionResult, logBytes: number): void {
    if (result.logEntriesMerged === 0) {
      // Someone else (a live instance's automatic compaction) got there first.
      this.skipped(result.bytesBefore)
      return
    }
    this.docsScanned += 1
    this.docsCompacted += 1
    this.logEntriesMerged += result.logEntriesMerged
    this.logBytesCompacted += logBytes
    this.bytesBefore += result.bytesBefore
    this.bytesAfter += result.bytesAfter
  }

  /** Nothing to merge: the doc is already one snapshot. */
  skipped(storedBytes: number): void {
    this.docsScanned += 1
    this.docsSkipped += 1
    this.bytesBefore += storedBytes
    this.bytesAfter += storedBytes
  }

  /** Compaction failed; the doc is untouched (its bytes count as kept). */
  failed(doc: string, problem: string, storedBytes: number): void {
    this.docsScanned += 1
    this.docsFailed += 1
    this.bytesBefore += storedBytes
    this.bytesAfter += storedBytes
    this.list(this.failures, { doc, problem })
  }

  /** The doc's version history after (or, dry run: as if after) pruning. */
  history(result: HistoryPruneResult): void {
    this.historyVersions += result.kept.versions
    this.historyBytes += result.kept.bytes
    this.historyVersionsPruned += result.pruned.versions
    this.historyBytesPruned += result.pruned.bytes
  }

  /** --verify: the doc decodes. */
  verified(storedBytes: number): void {
    this.docsScanned += 1
    this.bytesBefore += storedBytes
    this.bytesAfter += storedBytes
  }

  /** --verify: the doc does not decode. */
  brokenDoc(doc: string, problem: string, storedBytes: number): void {
    this.docsScanned += 1
    this.docsBroken += 1
    this.bytesBefore += storedBytes
    this.bytesAfter += storedBytes
    this.list(this.broken, { doc, problem })
  }

  /** The data directory's size on disk before and after the run, when the target knows it. */
  disk(before: number | undefined, after: number | undefined): void {
    this.diskBytesBefore = before ?? null
    this.diskBytesAfter = after ?? null
  }

  get bytesSaved(): number {
    return this.bytesBefore - this.bytesAfter
  }

  get compactedAny(): boolean {
    return this.docsCompacted > 0
  }

  get scanned(): number {
    return this.docsScanned
  }

  get hasProblems(): boolean {
    return this.docsFailed > 0 || this.docsBroken > 0
  }

  report(durationMs: number, interrupted: boolean): SummaryReport {
    const seconds = durationMs / 1000
    return {
      mode: this.mode,
      target: this.target,
      gc: this.gc,
      interrupted,
      docsScanned: this.docsScanned,
      docsCompacted: this.docsCompacted,
      docsSkipped: this.docsSkipped,
      docsFailed: this.docsFailed,
      docsBroken: this.docsBroken,
      logEntriesMerged: this.logEntriesMerged,
      logBytesCompacted: this.logBytesCompacted,
      bytesBefore: this.bytesBefore,
      bytesAfter: this.bytesAfter,
      bytesSaved: this.bytesSaved,
      diskBytesBefore: this.diskBytesBefore,
      diskBytesAfter: this.diskBytesAfter,
      durationMs: Math.round(durationMs),
      throughputMBps: seconds > 0 ? round(this.logBytesCompacted / 1e6 / seconds, 2) : 0,
      docsPerSecond: seconds > 0 ? round(this.docsScanned / seconds, 1) : 0,
      failures: [...this.failures],
      broken: [...this.broken],
      problemsNotListed: this.problemsNotListed,
      historyVersions: this.historyVersions,
      historyBytes: this.historyBytes,
      historyVersionsPruned: this.historyVersionsPruned,
      historyBytesPruned: this.historyBytesPruned,
    }
  }

  private list(into: DocProblem[], problem: DocProblem): void {
    if (this.failures.length + this.broken.length < MAX_LISTED_PROBLEMS) into.push(problem)
    else this.problemsNotListed += 1
  }
}

/** The summary table printed at the end of a run. */
export function formatSummary(report: SummaryReport): string {
  const title =
    report.mode === 'verify'
      ? 'verify summary'
      : report.mode === 'dry-run'
        ? 'compaction summary (dry run: nothing was written)'
        : 'compaction summary'
  const rows: [string, string][] = [['target', report.target]]
  rows.push(['docs scanned', formatCount(report.docsScanned)])
  if (report.mode === 'verify') {
    rows.push(['docs broken', formatCount(report.docsBroken)])
    rows.push(['bytes stored', formatBytes(report.bytesBefore)])
  } else {
    rows.push([
      report.mode === 'dry-run' ? 'docs to compact' : 'docs compacted',
      formatCount(report.docsCompacted),
    ])
    rows.push(['docs skipped', `${formatCount(report.docsSkipped)} (nothing to merge)`])
    rows.push(['docs failed', formatCount(report.docsFailed)])
    rows.push(['log entries merged', formatCount(report.logEntriesMerged)])
    rows.push(['garbage collection', report.gc ? 'on' : 'off'])
    rows.push(['bytes before', formatBytes(report.bytesBefore)])
    rows.push(['bytes after', `${formatBytes(report.bytesAfter)} (${formatChange(report)})`])
    rows.push([
      'history',
      `${formatCount(report.historyVersions)} versions, ${formatBytes(report.historyBytes)}` +
        (report.historyVersionsPruned > 0
          ? `; ${report.mode === 'dry-run' ? 'would prune' : 'pruned'} ${formatCount(report.historyVersionsPruned)} versions, ${formatBytes(report.historyBytesPruned)}`
          : ''),
    ])
  }
  if (report.diskBytesBefore !== null && report.diskBytesAfter !== null) {
    rows.push(['directory before', formatBytes(report.diskBytesBefore)])
    rows.push([
      'directory after',
      `${formatBytes(report.diskBytesAfter)} (${formatChange({ bytesBefore: report.diskBytesBefore, bytesSaved: report.diskBytesBefore - report.diskBytesAfter })})`,
    ])
  }
  rows.push(['time', formatDuration(report.durationMs)])
  if (report.mode !== 'verify') {
    rows.push([
      'throughput',
      `${report.throughputMBps.toFixed(2)} MB/s of log, ${report.docsPerSecond} docs/s`,
    ])
  } else {
    rows.push(['throughput', `${report.docsPerSecond} docs/s`])
  }
  const width = Math.max(...rows.map(([label]) => label.length))
  const lines = [title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)]
  const problems = report.mode === 'verify' ? report.broken : report.failures
  if (problems.length > 0) {
    lines.push(report.mode === 'verify' ? 'broken docs:' : 'failed docs (left untouched):')
    for (const { doc, problem } of problems) lines.push(`  ${JSON.stringify(doc)}: ${problem}`)
  }
  if (report.problemsNotListed > 0) lines.push(`  ... and ${formatCount(report.problemsNotListed)} more`)
  if (report.interrupted) {
    lines.push(
      'interrupted: the docs above are done, the rest untouched; run the same command again to finish',
    )
  }
  return `${lines.join('\n')}\n`
}

function formatChange(report: Pick<SummaryReport, 'bytesBefore' | 'bytesSaved'>): string {
  if (report.bytesBefore === 0) return 'no change'
  const percent = (report.bytesSaved / report.bytesBefore) * 100
  return report.bytesSaved >= 0 ? `-${percent.toFixed(1)}%` : `+${(-percent).toFixed(1)}%`
}

export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  let value = Math.abs(bytes)
  if (value < 1000) return `${sign}${value} B`
  for (const unit of ['kB', 'MB', 'GB', 'TB']) {
    value /= 1000
    if (value < 1000 || unit === 'TB') return `${sign}${value.toFixed(value < 10 ? 2 : 1)} ${unit}`
  }
  return `${sign}${value} B` // unreachable: the loop returns at TB
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const total = Math.round(seconds)
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const rest = total % 60
  return hours > 0 ? `${hours}h${pad2(minutes)}m${pad2(rest)}s` : `${minutes}m${pad2(rest)}s`
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
