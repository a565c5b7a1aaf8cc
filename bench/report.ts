/**
 * Turns a run into its outputs: the JSON results file, one Markdown table per scenario
 * variant (ours and each peer side by side, plus ours/peer ratios), and SVG bar charts.
 * Pure formatting: no I/O besides the write helpers at the bottom.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MetricDef, Metrics } from './scenarios/scenario.js'

export interface Spread {
  median: number
  min: number
  max: number
  n: number
}

export interface TargetRun {
  status: 'ok' | 'skipped' | 'error'
  reason?: string
  reps: Metrics[]
  summary: Record<string, Spread>
  notes: string[]
  /** Metric keys the target cannot have (e.g. no online compaction): shown as n/a. */
  notApplicable?: string[]
  wallS: number
}

export interface VariantRun {
  label: string
  params: Record<string, number>
  byTarget: Record<string, TargetRun>
}

export interface ScenarioRun {
  id: string
  title: string
  method: string
  metrics: MetricDef[]
  variants: VariantRun[]
}

export interface TargetMeta {
  id: string
  protocol: string
  version: string
  /** The bare relay floor: compared as "ours ÷ floor", never counted as a peer. */
  floor?: boolean
  skipped?: string
}

export interface RunResult {
  meta: {
    startedAt: string
    durationS: number
    mode: 'quick' | 'full' | 'final'
    argv: string[]
    machine: { nproc: number; cpuModel: string; node: string; kernel: string; memGiB: number }
    pinning: string
    typingModel: string
    targets: TargetMeta[]
  }
  scenarios: ScenarioRun[]
}

export function summarize(reps: Metrics[]): Record<string, Spread> {
  const keys = new Set(reps.flatMap((r) => Object.keys(r)))
  const out: Record<string, Spread> = {}
  for (const k of keys) {
    const vals = reps
      .map((r) => r[k])
      .filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
      .sort((a, b) => a - b)
    if (vals.length === 0) continue
    const mid = Math.floor(vals.length / 2)
    const median = vals.length % 2 ? vals[mid]! : (vals[mid - 1]! + vals[mid]!) / 2
    out[k] = { median, min: vals[0]!, max: vals.at(-1)!, n: vals.length }
  }
  return out
}

function fmt(x: number): string {
  const a = Math.abs(x)
  if (a === 0) return '0'
  if (a >= 1000) return x.toFixed(0)
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  return x.toPrecision(2)
}

function cell(run: TargetRun | undefined, key: string): string {
  if (!run) return '—'
  if (run.status !== 'ok') return run.status
  if (run.notApplicable?.includes(key)) return 'n/a'
  const s = run.summary[key]
  if (!s) return '—'
  return s.n > 1 && s.min !== s.max ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median)
}

const median = (run: TargetRun | undefined, key: string): number | undefined =>
  run?.status === 'ok' ? run.summary[key]?.median : undefined

/** The peer with the best median for a metric (ties: the first). */
function bestPeer(v: VariantRun, peers: string[], m: MetricDef): string | undefined {
  let best: string | undefined
  for (const p of peers) {
    const x = median(v.byTarget[p], m.key)
    if (x === undefined) continue
    const b = best === undefined ? undefined : median(v.byTarget[best], m.key)!
    if (b === undefined || (m.better === 'lower' ? x < b : x > b)) best = p
  }
  return best
}

function ratio(ours: TargetRun | undefined, peer: TargetRun | undefined, m: MetricDef): string {
  const a = median(ours, m.key)
  const b = median(peer, m.key)
  if (a === undefined || b === undefined || b === 0) return 'n/a'
  const r = a / b
  const better = m.better === 'lower' ? r < 1 : r > 1
  return `${r.toFixed(2)}×${r === 1 ? '' : better ? ' ✓' : ''}`
}

/** Markdown tables for every scenario variant. */
export function markdownTables(result: RunResult): string {
  const targets = result.meta.targets.map((t) => t.id)
  const floors = result.meta.targets.filter((t) => t.floor).map((t) => t.id)
  // Ratio columns only when ours was selected (it may still be skipped: then they read n/a).
  const withOurs = targets.includes('ours')
  const peers = withOurs ? targets.filter((t) => t !== 'ours' && !floors.includes(t)) : []
  const floorCols = withOurs ? floors : []
  const lines: string[] = []
  for (const sc of result.scenarios) {
    lines.push(`### ${sc.title}`, '', sc.method, '')
    for (const v of sc.variants) {
      lines.push(
        `**${v.label}** — median over repetitions (min–max). Ratio = ours ÷ peer; ✓ = ours better. Best peer = the peer with the better median for that row; floor = the bare relay.`,
        '',
      )
      const best = peers.length > 1 ? ['ours ÷ best peer'] : []
      const header = [
        'metric',
        ...targets,
        ...peers.map((p) => `ours ÷ ${p}`),
        ...best,
        ...floorCols.map((f) => `ours ÷ floor (${f})`),
      ]
      lines.push(
        `| ${header.join(' | ')} |`,
        `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      )
      for (const m of sc.metrics) {
        const row = [
          `${m.label} (${m.unit}, ${m.better} is better)`,
          ...targets.map((t) => cell(v.byTarget[t], m.key)),
          ...peers.map((p) => ratio(v.byTarget.ours, v.byTarget[p], m)),
          ...best.map(() => {
            const b = bestPeer(v, peers, m)
            return b ? `${ratio(v.byTarget.ours, v.byTarget[b], m)} (${b})` : 'n/a'
          }),
          ...floorCols.map((f) => ratio(v.byTarget.ours, v.byTarget[f], m)),
        ]
        lines.push(`| ${row.join(' | ')} |`)
      }
      lines.push('')
      for (const t of targets) {
        const run = v.byTarget[t]
        if (!run) continue
        if (run.reason) lines.push(`- ${t}: ${run.status}: ${run.reason}`)
        for (const n of run.notes) lines.push(`- ${t}: ${n}`)
      }
      lines.push('')
    }
  }
  return lines.join('\n')
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728']

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A grouped bar chart: one group per label, one bar per series; optional log10 axis. */
export function barChart(
  title: string,
  unit: string,
  groups: string[],
  series: string[],
  value: (group: number, series: number) => number | undefined,
  log: boolean,
): string {
  const W = 820
  const H = 380
  const left = 70
  const bottom = 90
  const top = 40
  const plotH = H - top - bottom
  const plotW = W - left - 20
  const vals: number[] = []
  for (let g = 0; g < groups.length; g++)
    for (let s = 0; s < series.length; s++) {
      const v = value(g, s)
      if (v !== undefined && Number.isFinite(v) && v > 0) vals.push(v)
    }
  const maxV = Math.max(1e-3, ...vals)
  const minV = Math.min(maxV, ...vals)
  const lo = log ? 10 ** Math.floor(Math.log10(minV)) : 0
  const hi = log ? 10 ** Math.ceil(Math.log10(maxV)) : maxV * 1.1
  const y = (v: number): number =>
    top + plotH - (log ? (Math.log10(v / lo) / Math.log10(hi / lo)) * plotH : (v / hi) * plotH)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}${log ? ' (log scale)' : ''}</text>`,
  ]
  const ticks = log
    ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i)
    : Array.from({ length: 6 }, (_, i) => (hi * i) / 5)
  for (const t of ticks) {
    const ty = y(Math.max(t, log ? lo : 0))
    out.push(
      `<line x1="${left}" x2="${W - 20}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${ty + 4}" text-anchor="end">${fmt(t)}</text>`,
    )
  }
  const gw = plotW / Math.max(1, groups.length)
  const bw = (gw * 0.8) / Math.max(1, series.length)
  groups.forEach((label, g) => {
    const gx = left + g * gw + gw * 0.1
    series.forEach((_, s) => {
      const v = value(g, s)
      if (v === undefined || !Number.isFinite(v) || v <= 0) return
      const by = y(Math.max(v, log ? lo : 0))
      out.push(
        `<rect x="${gx + s * bw}" y="${by}" width="${bw - 2}" height="${top + plotH - by}" fill="${COLORS[s % COLORS.length]}"><title>${esc(`${series[s]}: ${fmt(v)} ${unit}`)}</title></rect>`,
        `<text x="${gx + s * bw + bw / 2}" y="${by - 3}" text-anchor="middle" font-size="9">${fmt(v)}</text>`,
      )
    })
    out.push(`<text x="${gx + gw * 0.4}" y="${top + plotH + 16}" text-anchor="middle">${esc(label)}</text>`)
  })
  series.forEach((name, s) => {
    const lx = left + s * 200
    out.push(
      `<rect x="${lx}" y="${H - 30}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`,
      `<text x="${lx + 16}" y="${H - 20}">${esc(name)}</text>`,
    )
  })
  out.push('</svg>')
  return out.join('\n')
}

/** Charts: p99 latency across the latency scenarios, and throughput / CPU efficiency. */
export function charts(result: RunResult): Record<string, string> {
  const targets = result.meta.targets.filter((t) => !t.skipped).map((t) => t.id)
  const pick = (ids: string[], key: string): Array<{ label: string; v: VariantRun }> =>
    result.scenarios
      .filter((s) => ids.includes(s.id))
      .flatMap((s) => s.variants.map((v) => ({ label: `${s.id} ${v.label}`, v })))
      .filter(({ v }) => targets.some((t) => v.byTarget[t]?.summary[key]))
  const val = (rows: Array<{ v: VariantRun }>, key: string) => (g: number, s: number) =>
    rows[g]!.v.byTarget[targets[s]!]?.summary[key]?.median
  const out: Record<string, string> = {}
  const lat = pick(['fanout', 'cross-instance'], 'p99')
  if (lat.length)
    out['latency-p99.svg'] = barChart(
      'Delivery latency p99 (median of repetitions)',
      'ms',
      lat.map((r) => r.label),
      targets,
      val(lat, 'p99'),
      true,
    )
  const stallRows = result.scenarios
    .filter((sc) => sc.id === 'stall')
    .flatMap((sc) =>
      sc.variants.flatMap((v) =>
        (
          [
            ['baseP99', 'baseline'],
            ['pushP99', 'push'],
            ['syncP99', 'sync'],
            ['coldP99', 'cold load'],
            ['onlineCompactP99', 'online compaction'],
          ] as const
        ).map(([key, phase]) => ({ label: `${v.label} ${phase}`, key, v })),
      ),
    )
    .filter(({ v, key }) => targets.some((t) => v.byTarget[t]?.summary[key]))
  if (stallRows.length)
    out['stall-p99.svg'] = barChart(
      'Small-doc p99 while a big doc is pushed, synced, loaded cold, compacted online',
      'ms',
      stallRows.map((r) => r.label),
      targets,
      (g, s) => stallRows[g]!.v.byTarget[targets[s]!]?.summary[stallRows[g]!.key]?.median,
      true,
    )
  const tp = pick(['throughput'], 'deliveredAny')
  const tpCharts: Array<[string, string, string]> = [
    ['throughput.svg', 'delivered', 'Max delivered updates/s, durable, p99 ≤ 100 ms'],
    [
      'throughput-latency-only.svg',
      'deliveredAny',
      'Max delivered updates/s, p99 ≤ 100 ms, durability not required (floor included)',
    ],
  ]
  if (tp.length)
    for (const [file, key, title] of tpCharts)
      out[file] = barChart(
        title,
        'updates/s',
        tp.map((r) => r.label),
        targets,
        val(tp, key),
        false,
      )
  const cpu = pick(['fanout', 'cross-instance', 'throughput'], 'cpuPer1k')
  if (cpu.length)
    out['cpu-per-1k.svg'] = barChart(
      'Server CPU-ms per 1,000 delivered updates',
      'CPU-ms',
      cpu.map((r) => r.label),
      targets,
      val(cpu, 'cpuPer1k'),
      false,
    )
  return out
}

export function writeOutputs(dir: string, result: RunResult): string[] {
  mkdirSync(dir, { recursive: true })
  const stamp = result.meta.startedAt.replace(/[:.]/g, '-')
  const files: Record<string, string> = {
    [`results-${stamp}.json`]: JSON.stringify(result, null, 2),
    'latest.json': JSON.stringify(result, null, 2),
    'report.md': markdownTables(result),
    ...charts(result),
  }
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body)
  return Object.keys(files).map((f) => join(dir, f))
}
