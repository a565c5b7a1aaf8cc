/**
 * `yjs-cluster-server history`: lists a document's versions on a running instance
 * (GET /admin/docs/<doc>/versions), as a table or JSON.
 */
import type { CheckpointMeta } from '../history/checkpoint-store.js'
import { AdminRequestError, adminFetch } from './admin-fetch.js'
import type { CliCommand } from './command.js'
import { formatBytes } from './compact-summary.js'
import { ExitCode } from './exit-codes.js'
import { HISTORY_USAGE, parseHistoryArgs, versionsPath } from './history-args.js'
import { answerHelpOrUsage } from './usage.js'

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'list a document’s versions on a running instance',
  async run(argv, context) {
    const parsed = parseHistoryArgs(argv, context.env, false)
    if (parsed.kind !== 'run') return answerHelpOrUsage(parsed, HISTORY_USAGE, context)!
    const { endpoint, doc, json } = parsed.args
    let versions: CheckpointMeta[]
    try {
      versions = (await (await adminFetch(endpoint, 'GET', versionsPath(doc))).json()) as CheckpointMeta[]
    } catch (error) {
      if (!(error instanceof AdminRequestError)) throw error
      context.stderr.write(`error: ${error.message}\n`)
      return ExitCode.failure
    }
    if (!Array.isArray(versions)) {
      context.stderr.write(`error: unexpected answer from ${endpoint.url}\n`)
      return ExitCode.failure
    }
    context.stdout.write(json ? `${JSON.stringify(versions, null, 2)}\n` : formatVersions(doc, versions))
    return ExitCode.ok
  },
}

/** The table people read: one version a line, newest first. */
export function formatVersions(doc: string, versions: readonly CheckpointMeta[]): string {
  if (versions.length === 0) return `no versions of ${JSON.stringify(doc)} on this instance\n`
  const rows = versions.map((v) => [
    v.id,
    v.at,
    formatBytes(v.bytes),
    v.users.join(',') || '-',
    v.label ?? '',
  ])
  const header = ['id', 'at', 'size', 'users', 'label']
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const total = versions.reduce((sum, v) => sum + v.bytes, 0)
  return [
    line(header),
    ...rows.map(line),
    `${versions.length} versions, ${formatBytes(total)} of history for ${JSON.stringify(doc)}`,
    '',
  ].join('\n')
}
