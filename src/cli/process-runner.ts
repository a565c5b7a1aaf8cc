/**
 * Runs the CLI as the process: turns SIGINT/SIGTERM into the context's abort signal, and the
 * command's result into the exit code. The only place that calls process.exit for the CLI.
 *
 * Signals: the first one aborts (serve drains, compact finishes the doc in hand). A second
 * one at least 1 s later exits at once with 130. The grace second matters under
 * `npm start` in a terminal: Ctrl-C reaches node twice (once from the terminal's process
 * group, once forwarded by npm) and that must still be one graceful stop.
 */
import type { CliCommand, CliContext } from './command.js'
import { commands } from './commands.js'
import { dispatch } from './dispatch.js'
import { ExitCode } from './exit-codes.js'

const DUPLICATE_SIGNAL_MS = 1000

/** Runs `argv` (without node and script) through the registry, then exits the process. */
export async function runAsProcess(
  argv: readonly string[],
  registry: readonly CliCommand[] = commands,
): Promise<never> {
  const controller = new AbortController()
  let firstSignalAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      firstSignalAt = performance.now()
      controller.abort(signal)
      return
    }
    if (performance.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return
    process.stderr.write(`second ${signal}: stopping now; work in hand is left as it was\n`)
    process.exit(ExitCode.interrupted)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const context: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  }
  let code: number
  try {
    code = await dispatch(argv, registry, context)
  } catch (error) {
    // A bug, not bad input (commands report that themselves): show the stack.
    process.stderr.write(
      `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    code = ExitCode.failure
  }
  // Exit explicitly: a command that is done may still hold handles (worker threads, a
  // Redis socket in its last close) that would keep the process up. Wait for stdout and
  // stderr to drain first, so piped output (`--json`) is never cut short.
  await Promise.all([drain(process.stdout), drain(process.stderr)])
  process.exit(code)
}

function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve()
    else stream.write('', () => resolve())
  })
}
