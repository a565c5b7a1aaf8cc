/**
 * `yjs-cluster-server compact` from the sources (tsx), for development and the tests; the
 * package runs the compiled bin. See src/cli/compact-command.ts and docs/operations.md.
 */
import { runAsProcess } from '../src/cli/process-runner.js'

await runAsProcess(['compact', ...process.argv.slice(2)])
