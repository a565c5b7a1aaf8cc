/**
 * The registry of `yjs-cluster-server` subcommands, in the order `--help` lists them. Adding a
 * subcommand is one import and one entry here; the bin (src/cli/main.ts) does the rest.
 * The first entry is the default when no subcommand is given.
 */
import type { CliCommand } from './command.js'
import { compactCommand } from './compact-command.js'
import { serveCommand } from './serve-command.js'
import { tokenCommand } from './token-command.js'

export const commands: readonly CliCommand[] = [serveCommand, compactCommand, tokenCommand]
