/**
 * Picks the subcommand by the first argument and runs it. No subcommand (or a first argument
 * that is an option, like `--help` or `-h`) means the default command (`serve`) unless it is
 * a top-level help request. Pure apart from the context it is handed, so tests call it in
 * process.
 */
import type { CliCommand, CliContext } from './command.js'
import { ExitCode } from './exit-codes.js'
import { BIN_NAME } from './usage.js'

export { BIN_NAME }

/** The top-level `--help` text: every command with its one-line summary, and the exit codes. */
export function topLevelUsage(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((command) => command.name.length))
  const lines = commands.map(
    (command, index) =>
      `  ${command.name.padEnd(width)}  ${command.summary}${index === 0 ? ' (default)' : ''}`,
  )
  return [
    `usage: ${BIN_NAME} [command] [options]`,
    '',
    'commands:',
    ...lines,
    '',
    `${BIN_NAME} <command> --help shows the options of one command.`,
    'Configuration of serve comes from the environment (HOST, PORT, DATA_DIR, REDIS_URL, ...).',
    '',
    'exit codes: 0 ok, 1 failure, 2 usage error, 3 data directory locked by a running',
    'instance, 4 permission denied on the data directory, 130 interrupted (SIGINT/SIGTERM',
    'before the work was done)',
    '',
  ].join('\n')
}

/**
 * Runs the subcommand named by `argv[0]` (the default command when it is absent) with the
 * remaining arguments. Resolves to the process exit code; never throws for bad input.
 */
export async function dispatch(
  argv: readonly string[],
  commands: readonly CliCommand[],
  context: CliContext,
): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--help' || first === '-h' || first === 'help') {
    context.stdout.write(topLevelUsage(commands))
    return ExitCode.ok
  }
  if (first === '--version' || first === '-v') {
    context.stdout.write(`${await packageVersion()}\n`)
    return ExitCode.ok
  }
  if (first === undefined || first.startsWith('-')) {
    // `yjs-cluster-server` alone (or with serve's own options) is `serve`.
    return commands[0]!.run(argv, context)
  }
  const command = commands.find((candidate) => candidate.name === first)
  if (!command) {
    context.stderr.write(`error: unknown command "${first}"\n\n${topLevelUsage(commands)}`)
    return ExitCode.usage
  }
  return command.run(rest, context)
}

/** The version in the package.json next to the compiled (or source) tree. */
async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  const raw = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
  return (JSON.parse(raw) as { version: string }).version
}
