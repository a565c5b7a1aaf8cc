import { describe, expect, it } from 'vitest'
import { estimateEtaMs, formatProgressLine, LineProgress } from '../../src/cli/compact-progress.js'
import {
  CompactSummary,
  formatBytes,
  formatDuration,
  formatSummary,
  MAX_LISTED_PROBLEMS,
} from '../../src/cli/compact-summary.js'

const result = (docName: string, merged: number, before: number, after: number) => ({
  docName,
  compacted: true,
  logEntriesMerged: merged,
  bytesBefore: before,
  bytesAfter: after,
  durationMs: 1,
})

describe('CompactSummary', () => {
  it('adds up compacted, skipped and failed docs', () => {
    const summary = new CompactSummary('compact', '/data', true)
    summary.compacted(result('a', 100, 10_000, 1_000), 9_000)
    summary.compacted(result('b', 0, 500, 500), 0) // compacted meanwhile by the live instance
    summary.skipped(2_000)
    summary.failed('c', 'does not decode', 300)
    const report = summary.report(2_000, false)
    expect(report).toMatchObject({
      docsScanned: 4,
      docsCompacted: 1,
      docsSkipped: 2,
      docsFailed: 1,
      logEntriesMerged: 100,
      logBytesCompacted: 9_000,
      bytesBefore: 12_800,
      bytesAfter: 3_800,
      bytesSaved: 9_000,
      throughputMBps: 0,
      docsPerSecond: 2,
      failures: [{ doc: 'c', problem: 'does not decode' }],
    })
    expect(summary.hasProblems).toBe(true)
    expect(new CompactSummary('compact', 'x', true).report(1000, false).throughputMBps).toBe(0)
  })

  it('computes throughput in MB of log per second', () => {
    const summary = new CompactSummary('compact', '/data', true)
    summary.compacted(result('a', 10, 3_000_000, 100_000), 3_000_000)
    expect(summary.report(1_500, false).throughputMBps).toBe(2)
  })

  it('names at most MAX_LISTED_PROBLEMS docs and counts the rest', () => {
    const summary = new CompactSummary('verify', '/data', true)
    for (let i = 0; i < MAX_LISTED_PROBLEMS + 5; i++) summary.brokenDoc(`d${i}`, 'bad', 1)
    const report = summary.report(10, false)
    expect(report.broken).toHaveLength(MAX_LISTED_PROBLEMS)
    expect(report.problemsNotListed).toBe(5)
    expect(formatSummary(report)).toContain('... and 5 more')
  })
})

describe('formatSummary', () => {
  it('renders the table with the size change and failures', () => {
    const summary = new CompactSummary('compact', '/data', true)
    summary.compacted(result('team/a', 1_234, 2_000_000, 500_000), 1_900_000)
    summary.failed('broken "one"', 'entries do not merge', 10)
    summary.history({ kept: { versions: 3, bytes: 1_500 }, pruned: { versions: 2, bytes: 1_000 } })
    const text = formatSummary(summary.report(4_000, false))
    expect(text).toBe(
      [
        'compaction summary',
        '  target              /data',
        '  docs scanned        2',
        '  docs compacted      1',
        '  docs skipped        0 (nothing to merge)',
        '  docs failed         1',
        '  log entries merged  1,234',
        '  garbage collection  on',
        '  bytes before        2.00 MB',
        '  bytes after         500.0 kB (-75.0%)',
        '  history             3 versions, 1.50 kB; pruned 2 versions, 1.00 kB',
        '  time                4.0 s',
        '  throughput          0.48 MB/s of log, 0.5 docs/s',
        'failed docs (left untouched):',
        '  "broken \\"one\\"": entries do not merge',
        '',
      ].join('\n'),
    )
  })

  it('says so for dry runs, verify runs and interrupted runs', () => {
    const dry = formatSummary(new CompactSummary('dry-run', 'd', false).report(10, true))
    expect(dry).toMatch(/^compaction summary \(dry run: nothing was written\)/)
    expect(dry).toContain('docs to compact')
    expect(dry).toContain('garbage collection  off')
    expect(dry).toContain('run the same command again to finish')
    const verify = new CompactSummary('verify', 'd', true)
    verify.brokenDoc('x', 'snapshot does not decode', 5)
    expect(formatSummary(verify.report(10, false))).toContain('broken docs:\n  "x": snapshot does not decode')
  })
})

describe('formatting helpers', () => {
  it('formats bytes and durations', () => {
    expect([0, 999, 1000, 15_300, 2_500_000, 7e12].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.00 kB',
      '15.3 kB',
      '2.50 MB',
      '7.00 TB',
    ])
    expect(formatBytes(-1500)).toBe('-1.50 kB')
    expect([12, 1_500, 61_000, 3_725_000].map(formatDuration)).toEqual([
      '12 ms',
      '1.5 s',
      '1m01s',
      '1h02m05s',
    ])
  })
})

describe('progress', () => {
  const state = {
    docsDone: 1,
    docsTotal: 4,
    logBytesDone: 250,
    logBytesTotal: 1000,
    bytesSaved: 200,
    elapsedMs: 1000,
  }

  it('estimates the remaining time from log bytes, or docs when there is no log', () => {
    expect(estimateEtaMs(state)).toBe(3000)
    expect(estimateEtaMs({ ...state, logBytesTotal: 0, logBytesDone: 0, docsDone: 2 })).toBe(1000)
    expect(estimateEtaMs({ ...state, logBytesDone: 0 })).toBeUndefined()
    expect(estimateEtaMs({ ...state, logBytesDone: 1000 })).toBe(0)
  })

  it('writes a line per 10% of docs or per interval, and the last one', () => {
    const lines: string[] = []
    const progress = new LineProgress({ write: (text: string) => lines.push(text) }, 'compacting', 10_000)
    for (let done = 1; done <= 100; done++) {
      progress.update({ ...state, docsDone: done, docsTotal: 100, elapsedMs: done * 10 })
    }
    expect(lines).toHaveLength(10)
    expect(lines[0]).toBe(
      'compacting 10/100 docs (10.0%), log 250 B/1.00 kB, saved 200 B, elapsed 100 ms, ETA 300 ms\n',
    )
    progress.update({ ...state, docsDone: 100, docsTotal: 1000, elapsedMs: 5_000 })
    expect(lines).toHaveLength(10)
    progress.update({ ...state, docsDone: 101, docsTotal: 1000, elapsedMs: 20_001 })
    expect(lines).toHaveLength(11)
    expect(formatProgressLine('verifying', { ...state, logBytesTotal: 0, logBytesDone: 0 })).toBe(
      'verifying 1/4 docs (25.0%), elapsed 1.0 s, ETA 3.0 s',
    )
  })
})
