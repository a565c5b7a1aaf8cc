/**
 * A simulation verdict as text for people: the summary, one line per doc (at most 20, failures
 * first), and the first divergent doc with its diff and lost edits. `simulate` prints it; test
 * suites can put it in an assertion message.
 */
import type { SimulationVerdict } from './simulate.js'

const MAX_DOC_LINES = 20

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value} ms`
}

export function formatVerdict(verdict: SimulationVerdict): string {
  const t = verdict.totals
  const lines: string[] = []
  lines.push(
    verdict.ok
      ? `simulate: OK: ${t.docs} docs converged, no edit lost`
      : `simulate: FAILED: ${t.docsDiverged} of ${t.docs} docs diverged, ${t.lostEdits} edits lost`,
  )
  const kinds = t.editsByKind
  const closes = Object.entries(t.closeCodes)
    .map(([code, count]) => `${code}×${count}`)
    .join(' ')
  lines.push(
    `  servers    ${verdict.urls.join(', ')}`,
    `  run        ${t.docs} docs × ${t.editors / t.docs} editors, ${t.rate} edits/s each, ` +
      `typed ${(t.typingMs / 1000).toFixed(1)} s, seed ${verdict.seed}${verdict.interrupted ? ' (interrupted)' : ''}`,
    `  edits      ${t.edits} (words ${kinds.insert}, paragraphs ${kinds.paragraph}, ` +
      `deletes ${kinds.delete}, formats ${kinds.format})`,
    `  latency    p50 ${ms(t.latency.p50)}, p99 ${ms(t.latency.p99)}, max ${ms(t.latency.max)} ` +
      `(${t.latency.count} deliveries)`,
    `  reconnects ${t.reconnects}; errors ${t.errors} (connect ${t.connectErrors}, ` +
      `closed for good ${t.terminalCloses}); closes ${closes || 'none'}`,
    `  settled    ${t.docsDiverged === 0 ? `in ${ms(t.settleMs)}` : `no: gave up after ${ms(t.settleMs)}`}`,
  )
  for (const sample of t.errorSamples) lines.push(`  error      ${sample}`)
  const failedFirst = [...verdict.docs].sort(
    (a, b) => Number(a.converged && a.lostCount === 0) - Number(b.converged && b.lostCount === 0),
  )
  lines.push('docs')
  for (const doc of failedFirst.slice(0, MAX_DOC_LINES)) {
    const good = doc.converged && doc.lostCount === 0
    const problems = [
      ...(doc.converged ? [] : ['not converged']),
      ...(doc.lostCount > 0 ? [`${doc.lostCount} edits lost`] : []),
    ]
    lines.push(
      `  ${good ? 'ok  ' : 'FAIL'}  ${doc.name}  ${doc.editors} editors, ${doc.edits} edits` +
        (problems.length ? `: ${problems.join(', ')}` : ''),
    )
  }
  if (failedFirst.length > MAX_DOC_LINES) lines.push(`  … ${failedFirst.length - MAX_DOC_LINES} more`)
  const first = verdict.firstFailure
  if (first) {
    lines.push(`first failing doc: ${first.name}`)
    if (first.firstDiff) lines.push(...first.firstDiff.split('\n').map((line) => `  ${line}`))
    for (const lost of first.lost.slice(0, 5)) {
      const what = lost.kind === 'insert' ? 'missing on' : 'deleted by its author, still on'
      lines.push(
        `  lost ${lost.kind} "${lost.token}" by ${lost.author}: ${what} ${lost.missingOn.join(', ')}`,
      )
    }
    if (first.lostCount > 5) lines.push(`  … ${first.lostCount - 5} more lost edits in this doc`)
  }
  return `${lines.join('\n')}\n`
}
