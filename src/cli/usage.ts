/**
 * The one help format of every subcommand, and the one way they answer `--help` and a bad
 * command line:
 *
 *   usage: yjs-cluster-server <command> <synopsis>
 *
 *   <what it does>
 *
 *     --flag VALUE      what it means
 *     -h, --help        this text
 *
 *   exit codes: ...
 *
 * `--help` prints that on stdout and exits 0; a usage error prints `error: <why>`, a blank
 * line and the same text on stderr and exits 2 (nothing on stdout, so pipes stay clean).
 */
import { ExitCode } from './exit-codes.js'

export const BIN_NAME = 'yjs-cluster-server'

export interface CommandUsage {
  /** The rest of the first line, after `usage: yjs-cluster-server `. */
  readonly synopsis: string
  /** Extra lines under the first (another form of the command), indented to line up. */
  readonly moreSynopsis?: readonly string[]
  /** What the command does, one paragraph or more (blank lines between). */
  readonly about: string
  /** Flags and what they mean; `-h, --help` is added last. */
  readonly options: readonly (readonly [flags: string, meaning: string])[]
  /** A paragraph after the options (notes that are not flags), if any. */
  readonly notes?: string
  /** The exit codes sentence, after `exit codes: `. */
  readonly exitCodes: string
}

/** Column where option meanings start (flags are padded to it). */
const FLAG_WIDTH = 18

export function formatUsage(usage: CommandUsage): string {
  const options = [...usage.options, ['-h, --help', 'this text'] as const]
  const width = Math.max(FLAG_WIDTH, ...options.map(([flags]) => flags.length + 2))
  const optionLines = options.flatMap(([flags, meaning]) => {
    const [first, ...rest] = meaning.split('\n')
    return [`  ${flags.padEnd(width)}${first}`, ...rest.map((line) => `  ${' '.repeat(width)}${line}`)]
  })
  const indent = ' '.repeat('usage: '.length)
  return [
    `usage: ${BIN_NAME} ${usage.synopsis}`,
    ...(usage.moreSynopsis ?? []).map((line) => `${indent}${line}`),
    '',
    usage.about.trimEnd(),
    '',
    ...optionLines,
    '',
    ...(usage.notes ? [usage.notes.trimEnd(), ''] : []),
    `exit codes: ${usage.exitCodes.trimEnd()}`,
    '',
  ].join('\n')
}

/** Where help and usage errors go (a CliContext, or anything with the two streams). */
export interface UsageOutput {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
}

/** What every subcommand's parser returns besides its arguments. */
export type HelpOrUsageError =
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string }

/**
 * Answers `--help` (usage on stdout, exit 0) and a usage error (`error: <why>` and the usage
 * on stderr, exit 2). Resolves undefined when the command line is to be run.
 */
export function answerHelpOrUsage(
  parsed: HelpOrUsageError | { readonly kind: 'run' },
  usage: string,
  context: UsageOutput,
): number | undefined {
  if (parsed.kind === 'help') {
    context.stdout.write(usage)
    return ExitCode.ok
  }
  if (parsed.kind === 'usage-error') return usageError(parsed.message, usage, context)
  return undefined
}

/** A usage error found after parsing (a value out of range): `error: <why>` and the usage, exit 2. */
export function usageError(message: string, usage: string, context: Pick<UsageOutput, 'stderr'>): number {
  context.stderr.write(`error: ${message}\n\n${usage}`)
  return ExitCode.usage
}
