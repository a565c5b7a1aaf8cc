/**
 * Exit codes of the operator CLIs, documented in docs/operations.md. Scripts and cron jobs
 * branch on them, so they are stable: add new ones, never renumber.
 */
import { YwsError } from '../errors.js'

export const ExitCode = {
  /** Everything asked for was done (or, with --verify, every doc decodes). */
  ok: 0,
  /** Some doc failed to compact, broken docs were found, or the target failed. */
  failure: 1,
  /** Bad command line: usage was printed to stderr. */
  usage: 2,
  /** The data directory is held by a running instance (LevelDB lock). */
  storeLocked: 3,
  /** This user may not read or write the data directory (EACCES/EPERM); nothing was done. */
  storeAccessDenied: 4,
  /** Stopped by SIGINT/SIGTERM after finishing the doc in hand; rerun to finish the job. */
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * The exit code an error ends a command with: its catalogue entry's (src/errors.ts: 3 for a
 * locked store, 4 for permission denied, ...), else 1.
 */
export function exitCodeOf(error: unknown): number {
  return error instanceof YwsError && error.exitCode !== undefined ? error.exitCode : ExitCode.failure
}
