/**
 * `yjs-cluster-server simulate`: runs `simulateEditors` against live servers, shows a progress
 * line on stderr while it runs, and prints the verdict (text, or JSON with --json) on stdout.
 * The exit code is the verdict: 0 only if every doc converged and nothing was lost.
 */
import { formatVerdict } from '../testing/format-verdict.js'
import { SimulationOptionsError, type SimulationProgress } from '../testing/sim-options.js'
import { SimulationConnectError, simulateEditors } from '../testing/simulate.js'
import type { CliCommand, CliContext } from './command.js'
import { ExitCode } from './exit-codes.js'
import { parseSimulateArgs, SIMULATE_USAGE } from './simulate-args.js'
import { answerHelpOrUsage, usageError } from './usage.js'

/** Library option → the flag a CLI user typed, for error messages. */
const FLAG_OF: Record<string, string> = {
  urls: '--url',
  docs: '--docs',
  editors: '--editors',
  rate: '--rate',
  durationMs: '--duration',
  settleTimeoutMs: '--settle',
  seed: '--seed',
  token: '--token',
  secret: '--secret',
  'chaos.disconnectsPerMinute': '--chaos',
  'chaos.maxOfflineMs': '--offline',
}

/** Options the command line takes in seconds (the library takes milliseconds). */
const IN_SECONDS: ReadonlySet<string> = new Set(['durationMs', 'settleTimeoutMs', 'chaos.maxOfflineMs'])

/**
 * A library option error in the command line's terms: the flag instead of the option name,
 * and seconds where the flag takes seconds (`--duration 100000` was answered with
 * "--duration: durationMs must be a number from 1 to 86400000 (got 100000000)").
 */
function optionErrorMessage(error: SimulationOptionsError): string {
  const flag = FLAG_OF[error.option] ?? error.option
  if (error.range && IN_SECONDS.has(error.option)) {
    const seconds = (ms: number) => String(ms / 1000)
    const { min, max, got } = error.range
    return `${flag} must be from ${seconds(min)} to ${seconds(max)} seconds (got ${seconds(got)})`
  }
  const { message, option } = error
  if (message.startsWith(`${option}: `)) return `${flag}: ${message.slice(option.length + 2)}`
  if (message.startsWith(`${option} `)) return `${flag} ${message.slice(option.length + 1)}`
  return `${flag}: ${message}`
}

function progressLine(p: SimulationProgress): string {
  const clock =
    p.phase === 'typing'
      ? `${(p.elapsedMs / 1000).toFixed(0)}/${(p.durationMs / 1000).toFixed(0)} s`
      : p.phase
  return (
    `simulate ${clock}: ${p.connected}/${p.editors} editors connected, ${p.edits} edits, ` +
    `latency p50 ${p.latency.p50} ms p99 ${p.latency.p99} ms, ${p.reconnects} reconnects, ${p.errors} errors\n`
  )
}

/** What to pass when a server refused the editors' token. */
function refusalHint(status: 401 | 403 | undefined, options: { token?: string; secret?: string }): string {
  if (status === 401) {
    return options.token !== undefined || options.secret !== undefined
      ? '; check --token, or pass --secret with the servers’ AUTH_SECRET'
      : '; the servers check tokens: pass --token T, or --secret S (their AUTH_SECRET) to mint one per editor'
  }
  if (status === 403) {
    return options.secret !== undefined
      ? ''
      : '; pass a --token whose docs claim covers the simulated docs (--prefix), or --secret S to mint one per doc'
  }
  return ''
}

export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'simulated editors type into live servers; exit 0 only if nothing was lost',
  async run(argv: readonly string[], context: CliContext): Promise<number> {
    const parsed = parseSimulateArgs(argv)
    if (parsed.kind !== 'run') return answerHelpOrUsage(parsed, SIMULATE_USAGE, context)!
    try {
      const verdict = await simulateEditors({
        ...parsed.options,
        signal: context.signal,
        ...(parsed.quiet ? {} : { onProgress: (p) => context.stderr.write(progressLine(p)) }),
        progressIntervalMs: 2000,
      })
      context.stdout.write(parsed.json ? `${JSON.stringify(verdict, null, 2)}\n` : formatVerdict(verdict))
      if (!verdict.ok) return ExitCode.failure
      return verdict.interrupted ? ExitCode.interrupted : ExitCode.ok
    } catch (error) {
      if (error instanceof SimulationOptionsError) {
        return usageError(optionErrorMessage(error), SIMULATE_USAGE, context)
      }
      if (error instanceof SimulationConnectError) {
        context.stderr.write(`error: ${error.message}${refusalHint(error.refusedStatus, parsed.options)}\n`)
        return context.signal.aborted ? ExitCode.interrupted : ExitCode.failure
      }
      throw error
    }
  },
}
