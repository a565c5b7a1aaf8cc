/**
 * The shape of one `yjs-cluster-server` subcommand. The bin (`src/cli/main.ts`) picks one by
 * its first argument and hands it the rest; every subcommand owns its own argument parsing
 * (node:util parseArgs), `--help` text and exit codes (src/cli/exit-codes.ts).
 */
import type { Writable } from 'node:stream'

/** What a subcommand may touch of the process: streams, environment and an abort signal. */
export interface CliContext {
  readonly stdout: Writable
  readonly stderr: Writable
  readonly env: NodeJS.ProcessEnv
  /** Aborted on the first SIGINT/SIGTERM; long-running commands finish cleanly. */
  readonly signal: AbortSignal
}

/** One subcommand of the CLI. */
export interface CliCommand {
  /** The word on the command line, e.g. `compact`. */
  readonly name: string
  /** One line for the top-level `--help`. */
  readonly summary: string
  /** Runs with the arguments after the subcommand name; resolves to the process exit code. */
  run(argv: readonly string[], context: CliContext): Promise<number>
}
