/**
 * `npm run compact`: parses the command line, opens the target (a stopped instance's
 * directory, or a running instance through its admin endpoint), walks the docs one at a
 * time with progress, and prints a summary. Returns the exit code; the process wiring
 * (signals, process.exit) lives in src/cli/process-runner.ts.
 *
 * Interrupt safety comes from the store: each doc's new snapshot and the deletion of the
 * entries it merged are one atomic LevelDB batch, so a kill at any moment leaves every doc
 * either compacted or untouched, and a rerun simply continues. On an abort signal the run
 * finishes the doc in hand and stops.
 */
import { noSuchDocMessage } from '../errors.js'
import { StoreAccessError, StoreLockedError } from '../storage/level-doc-store.js'
import type { CliCommand } from './command.js'
import { COMPACT_USAGE, type CompactArgs, parseCompactArgs } from './compact-args.js'
import {
  LineProgress,
  type ProgressReporter,
  type ProgressState,
  SilentProgress,
  TtyProgress,
} from './compact-progress.js'
import { CompactSummary, formatBytes, formatCount, formatSummary, type RunMode } from './compact-summary.js'
import { AdminTarget, type CompactionTarget, DirTarget, TargetUnavailableError } from './compaction-target.js'
import { ExitCode } from './exit-codes.js'
import { notALevelDir } from './level-dir.js'
import { answerHelpOrUsage } from './usage.js'

export interface CompactIo {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean }
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborted on SIGINT/SIGTERM: finish the current doc, then stop. */
  readonly signal: AbortSignal
  readonly now?: () => number
}

export async function runCompactCommand(argv: readonly string[], io: CompactIo): Promise<number> {
  const parsed = parseCompactArgs(argv, io.env)
  if (parsed.kind !== 'run') return answerHelpOrUsage(parsed, COMPACT_USAGE, io)!
  const args = parsed.args
  const opened = await openTarget(args, io)
  if (typeof opened === 'number') return opened
  const target = opened
  try {
    return await run(args, target, io)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    io.stderr.write(`error: ${message}\n`)
    return ExitCode.failure
  } finally {
    await target.close()
  }
}

async function openTarget(args: CompactArgs, io: CompactIo): Promise<CompactionTarget | number> {
  if (args.source.kind === 'admin') return new AdminTarget(args.source)
  const dataDir = args.source.dataDir
  // LevelDB would happily create an empty store here; an operator who mistyped the path
  // wants to hear about it instead.
  const notLevel = notALevelDir(dataDir)
  if (notLevel !== undefined) {
    io.stderr.write(`error: ${notLevel}\n`)
    return ExitCode.failure
  }
  const target = new DirTarget(dataDir, args.dryRun || args.mode === 'verify')
  try {
    await target.open()
    return target
  } catch (error) {
    if (error instanceof StoreLockedError) {
      io.stderr.write(lockedMessage(dataDir, argsForUrl(args)))
      return ExitCode.storeLocked
    }
    if (error instanceof StoreAccessError) {
      io.stderr.write(
        `error: ${error.message}\nNothing was read or changed. Run as the user that owns it (the server's user).\n`,
      )
      return ExitCode.storeAccessDenied
    }
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    return ExitCode.failure
  }
}

/** One line: what happened, that nothing was done, and the command that works meanwhile. */
export function lockedMessage(dataDir: string, otherArgs: string): string {
  return (
    `error: ${dataDir} is locked by a running instance; nothing was read or changed. ` +
    `Stop it, or compact through it: yjs-cluster-server compact --url http://HOST:PORT --admin-token "$ADMIN_TOKEN"${otherArgs}\n`
  )
}

function argsForUrl(args: CompactArgs): string {
  const parts: string[] = []
  if (args.doc !== undefined) parts.push(`--doc ${JSON.stringify(args.doc)}`)
  if (args.prefix !== undefined) parts.push(`--prefix ${JSON.stringify(args.prefix)}`)
  if (args.dryRun) parts.push('--dry-run')
  if (!args.gc) parts.push('--no-gc')
  if (args.json) parts.push('--json')
  if (args.historyKeep !== undefined) parts.push(`--history-keep ${args.historyKeep}`)
  return parts.map((part) => ` ${part}`).join('')
}

async function run(args: CompactArgs, target: CompactionTarget, io: CompactIo): Promise<number> {
  const now = io.now ?? (() => performance.now())
  const mode: RunMode = args.mode === 'verify' ? 'verify' : args.dryRun ? 'dry-run' : 'compact'
  const verb = mode === 'verify' ? 'verifying' : mode === 'dry-run' ? 'dry run' : 'compacting'
  const started = now()

  // First pass: only totals (two numbers), so progress can show docs/total and a
  // byte-based ETA without keeping the listing in memory.
  let docsTotal = 0
  let logBytesTotal = 0
  for await (const stats of selectedDocs(args, target)) {
    docsTotal += 1
    logBytesTotal += stats.logBytes
  }
  if (args.doc !== undefined && docsTotal === 0) {
    io.stderr.write(`error: ${noSuchDocMessage(args.doc)} in ${target.description}\n`)
    return ExitCode.failure
  }
  if (!args.quiet) {
    io.stderr.write(
      `${verb}: ${formatCount(docsTotal)} docs, ${formatBytes(logBytesTotal)} of update log, in ${target.description}` +
        `${mode === 'verify' ? '' : ` (gc ${args.gc ? 'on' : 'off'})`}\n`,
    )
  }

  const diskBefore = await target.diskBytes()
  const progress = createProgress(args, io, verb)
  const onAbort = () =>
    progress.note('interrupted: finishing the doc in hand, then stopping (interrupt again to stop at once)')
  io.signal.addEventListener('abort', onAbort, { once: true })

  const summary = new CompactSummary(mode, target.description, args.gc)
  let docsDone = 0
  let logBytesDone = 0
  let interrupted = false
  const state = (): ProgressState => ({
    docsDone,
    docsTotal: Math.max(docsTotal, docsDone),
    logBytesDone,
    logBytesTotal: Math.max(logBytesTotal, logBytesDone),
    bytesSaved: summary.bytesSaved,
    elapsedMs: now() - started,
  })
  try {
    progress.update(state())
    for await (const stats of selectedDocs(args, target)) {
      if (io.signal.aborted) {
        interrupted = true
        break
      }
      const storedBytes = stats.snapshotBytes + stats.logBytes
      if (mode === 'verify') {
        const problem = await target.verify(stats.docName)
        if (problem === undefined) summary.verified(storedBytes)
        else summary.brokenDoc(stats.docName, problem, storedBytes)
      } else if (stats.logEntries === 0) {
        summary.skipped(storedBytes)
      } else {
        try {
          const result = await target.compact(stats.docName, { gc: args.gc, dryRun: args.dryRun })
          summary.compacted(result, stats.logBytes)
        } catch (error) {
          if (error instanceof TargetUnavailableError) throw error
          // Verification or decoding failed: the store wrote nothing for this doc. Note it
          // and go on; the summary names it and the exit code says so.
          summary.failed(stats.docName, error instanceof Error ? error.message : String(error), storedBytes)
        }
      }
      if (mode !== 'verify') {
        try {
          summary.history(await target.history(stats.docName, args.historyKeep, args.dryRun))
        } catch (error) {
          if (error instanceof TargetUnavailableError) throw error
          summary.failed(
            stats.docName,
            `history: ${error instanceof Error ? error.message : String(error)}`,
            0,
          )
        }
      }
      docsDone += 1
      logBytesDone += stats.logBytes
      progress.update(state())
    }
    // An abort that lands after the last doc was started still stopped nothing: report done.
  } finally {
    progress.stop()
    io.signal.removeEventListener('abort', onAbort)
  }

  // Also after an interrupt: the docs that were done deleted their logs.
  if (mode === 'compact' && summary.compactedAny) {
    if (!args.quiet) io.stderr.write('reclaiming disk space (LevelDB compaction of the deleted entries)\n')
    await target.reclaimSpace()
  }
  summary.disk(diskBefore, await target.diskBytes())
  const report = summary.report(now() - started, interrupted)
  io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report))
  if (interrupted) return ExitCode.interrupted
  return summary.hasProblems ? ExitCode.failure : ExitCode.ok
}

/** The docs a run covers: one (--doc), a prefix, or all, streamed in name order. */
async function* selectedDocs(args: CompactArgs, target: CompactionTarget) {
  if (args.doc === undefined) {
    yield* target.docs(args.prefix)
    return
  }
  // Listing by the name as a prefix: the doc itself sorts first.
  for await (const stats of target.docs(args.doc)) {
    if (stats.docName === args.doc) yield stats
    return
  }
}

function createProgress(args: CompactArgs, io: CompactIo, verb: string): ProgressReporter {
  if (args.quiet) return new SilentProgress(io.stderr)
  if (io.stderr.isTTY) return new TtyProgress(io.stderr, verb)
  return new LineProgress(io.stderr, verb)
}

/** `yjs-cluster-server compact` (and `npm run compact`). */
export const compactCommand: CliCommand = {
  name: 'compact',
  summary: 'merge each document log into one snapshot (--data-dir or --url)',
  run: (argv, context) =>
    runCompactCommand(argv, {
      stdout: context.stdout,
      stderr: context.stderr as CompactIo['stderr'],
      env: context.env,
      signal: context.signal,
    }),
}
