/**
 * Entry point of `npm run compact` (see src/cli/compact-command.ts and docs/operations.md).
 * Owns only the process: signals and the exit code.
 *
 * First SIGINT/SIGTERM: finish the doc in hand, print the summary, exit 130. A second one
 * exits at once; that is still safe, because each doc is committed in one atomic batch.
 */
import { runCompactCommand } from '../src/cli/compact-command.js'
import { ExitCode } from '../src/cli/exit-codes.js'

const controller = new AbortController()
const onSignal = () => {
  if (controller.signal.aborted) {
    process.stderr.write('second interrupt: stopping now; the doc in hand is left as it was\n')
    process.exit(ExitCode.interrupted)
  }
  controller.abort()
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const code = await runCompactCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})
process.off('SIGINT', onSignal)
process.off('SIGTERM', onSignal)
process.exitCode = code
