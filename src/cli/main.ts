#!/usr/bin/env node
/**
 * The `yjs-cluster-server` bin: `yjs-cluster-server [serve|compact|token|...] [options]`.
 * Subcommands live in src/cli/commands.ts; exit codes in src/cli/exit-codes.ts.
 */
import { runAsProcess } from './process-runner.js'

await runAsProcess(process.argv.slice(2))
