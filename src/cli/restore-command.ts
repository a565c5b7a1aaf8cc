/**
 * `yjs-cluster-server restore`: restores a version through a running instance
 * (POST /admin/docs/<doc>/versions/<id>/restore), so every connected editor on every
 * instance sees it as a new change.
 */
import { AdminRequestError, adminFetch } from './admin-fetch.js'
import type { CliCommand } from './command.js'
import { ExitCode } from './exit-codes.js'
import { parseHistoryArgs, RESTORE_USAGE, versionsPath } from './history-args.js'
import { answerHelpOrUsage } from './usage.js'

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'restore a document’s version through a running instance (a new change; backup first)',
  async run(argv, context) {
    const parsed = parseHistoryArgs(argv, context.env, true)
    if (parsed.kind !== 'run') return answerHelpOrUsage(parsed, RESTORE_USAGE, context)!
    const { endpoint, doc, version, json } = parsed.args
    let answer: { restored?: unknown; backup?: unknown }
    try {
      const path = `${versionsPath(doc)}/${encodeURIComponent(version!)}/restore`
      answer = (await (await adminFetch(endpoint, 'POST', path)).json()) as typeof answer
    } catch (error) {
      if (!(error instanceof AdminRequestError)) throw error
      context.stderr.write(`error: ${error.message}\n`)
      return ExitCode.failure
    }
    context.stdout.write(
      json
        ? `${JSON.stringify(answer)}\n`
        : `restored ${JSON.stringify(doc)} to version ${String(answer.restored)}; ` +
            `the state before it is version ${String(answer.backup)}\n`,
    )
    return ExitCode.ok
  },
}
