/**
 * The registry of `yjs-cluster-server` subcommands, in the order `--help` lists them. Adding
 * a subcommand is one entry here:
 *
 *   lazyCommand('export', 'one line for --help', async () => (await import('./export-command.js')).exportCommand),
 *
 * Entries load their module only when run: `token` or `--help` must not pay for LevelDB,
 * ioredis and the worker pool (each `serve` dependency costs start-up time). The first
 * entry is the default when no subcommand is given.
 */
import type { CliCommand } from './command.js'

/** A command whose module is imported on first run. `name`/`summary` are for dispatch and --help. */
export function lazyCommand(name: string, summary: string, load: () => Promise<CliCommand>): CliCommand {
  return { name, summary, run: async (argv, context) => (await load()).run(argv, context) }
}

export const commands: readonly CliCommand[] = [
  lazyCommand(
    'serve',
    'start one instance, configured by the environment',
    async () => (await import('./serve-command.js')).serveCommand,
  ),
  lazyCommand(
    'compact',
    'merge each document log into one snapshot (--data-dir or --url)',
    async () => (await import('./compact-command.js')).compactCommand,
  ),
  lazyCommand(
    'token',
    'mint a JWT for AUTH_SECRET (--docs, --sub, --mode, --ttl)',
    async () => (await import('./token-command.js')).tokenCommand,
  ),
  lazyCommand(
    'export',
    'write every stored document as NDJSON (online through --url, or offline --data-dir)',
    async () => (await import('./export-command.js')).exportCommand,
  ),
  lazyCommand(
    'import',
    'merge NDJSON (or --from-y-leveldb DIR) into docs (online through --url, or offline --data-dir)',
    async () => (await import('./import-command.js')).importCommand,
  ),
  lazyCommand(
    'simulate',
    'simulated editors type into live servers; exit 0 only if nothing was lost',
    async () => (await import('./simulate-command.js')).simulateCommand,
  ),
  lazyCommand(
    'history',
    'list a document’s versions on a running instance (--url, --doc)',
    async () => (await import('./history-command.js')).historyCommand,
  ),
  lazyCommand(
    'restore',
    'restore a document’s version through a running instance (--url, --doc, --version)',
    async () => (await import('./restore-command.js')).restoreCommand,
  ),
]
