/**
 * The bench report's tables: a metric a target cannot have (the stall scenario's online
 * compaction on the peers) reads n/a, not as a figure that is missing.
 */
import { describe, expect, it } from 'vitest'
import { markdownTables, type RunResult, summarize, type TargetRun } from '../../bench/report.js'

function run(reps: Record<string, number>[], notApplicable?: string[]): TargetRun {
  return {
    status: 'ok',
    reps,
    summary: summarize(reps),
    notes: [],
    ...(notApplicable ? { notApplicable } : {}),
    wallS: 1,
  }
}

const result = (byTarget: Record<string, TargetRun>): RunResult => ({
  meta: {
    startedAt: '2026-12-01T00:00:00.000Z',
    durationS: 1,
    mode: 'quick',
    argv: [],
    machine: { nproc: 2, cpuModel: 'x', node: 'v20', kernel: 'k', memGiB: 1 },
    pinning: 'none',
    typingModel: 'none',
    targets: Object.keys(byTarget).map((id) => ({ id, protocol: 'y-websocket', version: '1' })),
  },
  scenarios: [
    {
      id: 'stall',
      title: 'stall',
      method: 'm',
      metrics: [
        { key: 'pushP99', label: 'push p99', unit: 'ms', better: 'lower' },
        { key: 'onlineCompactP99', label: 'online compaction p99', unit: 'ms', better: 'lower' },
      ],
      variants: [{ label: '5 MB doc', params: { mb: 5 }, byTarget }],
    },
  ],
})

const row = (table: string, label: string): string[] =>
  table
    .split('\n')
    .find((line) => line.startsWith(`| ${label} `))!
    .split('|')
    .slice(2, -1)
    .map((c) => c.trim())

describe('markdownTables', () => {
  it('shows n/a for a metric the target cannot have, and — for one it did not measure', () => {
    const table = markdownTables(
      result({
        ours: run([{ pushP99: 20, onlineCompactP99: 30 }]),
        peer: run([{ pushP99: 40 }], ['onlineCompactP99']),
        other: run([{ pushP99: 50 }]),
      }),
    )
    expect(row(table, 'push p99')).toEqual(['20.0', '40.0', '50.0', '0.50× ✓', '0.40× ✓', '0.50× ✓ (peer)'])
    expect(row(table, 'online compaction p99')).toEqual(['30.0', 'n/a', '—', 'n/a', 'n/a', 'n/a'])
  })
})
